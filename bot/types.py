"""Channel-neutral message types: every channel produces InboundMessage and renders Reply."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One message from a customer, as any channel delivers it."""

    channel: str  # "web", "console", "sms", "whatsapp", "telegram"
    sender: str  # channel address: E.164 phone, telegram chat id, web session id
    text: str  # what was typed, or the value of the option tapped
    external_id: str  # provider message id; unique per channel (dedupe key)
    received_at: datetime
    # What else the channel knows, in neutral keys: "command" ("start", "help", "menu",
    # "stop": a Telegram slash command), "contact_phone" (a phone number the sender shared
    # as their own contact), "contact_not_own" (True: they shared someone else's).
    payload: dict[str, Any] = field(default_factory=dict)
    # The phone number the sender is known to act as (web demo picks it; SMS From is it).
    as_phone: str | None = None


@dataclass(frozen=True, slots=True)
class Option:
    """A choice offered to the customer; `value` is what the engine receives back."""

    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One bot message. Channels decide how options, links, images and documents look.

    A document (an invoice PDF) is an attachment the channel sends as a file where it can
    (WhatsApp, Telegram) and as a link otherwise; `document_name` is the file name shown.
    `request_contact`: ask the customer to share their own phone number where the channel has
    a button for it (Telegram's contact keyboard, labelled `link_label`); other channels show
    the text alone.
    """

    text: str
    options: tuple[Option, ...] = ()
    link: str | None = None
    link_label: str | None = None
    image_url: str | None = None
    document_url: str | None = None
    document_name: str | None = None
    request_contact: bool = False

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"text": self.text}
        if self.options:
            data["options"] = [o.label for o in self.options]
            data["option_values"] = [o.value for o in self.options]
        if self.link:
            data["link"] = self.link
            if self.link_label:
                data["link_label"] = self.link_label
        if self.image_url:
            data["image"] = self.image_url
        if self.document_url:
            data["document"] = self.document_url
            if self.document_name:
                data["document_name"] = self.document_name
        if self.request_contact:
            data["request_contact"] = True
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reply:
        labels = data.get("options") or []
        values = data.get("option_values") or labels
        return cls(
            text=str(data.get("text", "")),
            options=tuple(
                Option(str(lbl), str(val)) for lbl, val in zip(labels, values, strict=False)
            ),
            link=data.get("link"),
            link_label=data.get("link_label"),
            image_url=data.get("image"),
            document_url=data.get("document"),
            document_name=data.get("document_name"),
            request_contact=bool(data.get("request_contact", False)),
        )


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A message billbot sends outside an immediate reply (a notice, an alert, a receipt).

    Channel-neutral: the replies are rendered by the channel's sender at delivery. The dedupe
    key makes queueing it idempotent: the same key is stored (and sent) once.
    """

    channel: str  # "sms", "whatsapp", "telegram", "email", …
    address: str  # the channel's address: E.164 phone, e-mail address, chat id
    replies: tuple[Reply, ...]
    kind: str  # e.g. "bar_notice", "payment_received", "pin_locked"
    dedupe_key: str
    account_id: int | None = None
    # Not before this moment (an alert waiting out the customer's quiet hours).
    not_before: datetime | None = None
