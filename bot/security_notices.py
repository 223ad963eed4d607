"""Notices of SIM changes, number transfers and lock changes, at once, on every verified channel
of the holder, each with a one-tap "Not me" (a link to `/security/not-me/…`; on chats the
words NOT ME work too, through the `not_me` intent).

The notice is the holder's alarm: it goes to every channel (`bot.holders`), not the one the
alerts use, and ignores the alert settings and quiet hours — a customer cannot turn off being
told that someone is taking their number. Each is queued once per (event, reference, address).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from billing_client import Account, BillingClient
from bot import i18n
from bot.addresses import AddressBook
from bot.holders import verified_channels
from bot.i18n import Messages
from bot.links import LinkSigner
from bot.phones import display
from bot.types import OutboundMessage, Reply

KIND = "security_notice"
SecurityEventKind = Literal[
    "sim_ordered",
    "sim_activated",
    "port_out_requested",
    "port_out_refused",
    "port_out_approved",
    "lock_off",
]

TEXTS: dict[str, Messages] = {
    "sim_ordered": {
        "en": "{operator}: a replacement {sim} was ordered for {number} ({reference}). When it "
        "is activated, the SIM in the phone now stops working.",
        "es": "{operator}: se ha pedido una {sim} nueva para {number} ({reference}). Cuando se "
        "active, la SIM del teléfono actual dejará de funcionar.",
    },
    "sim_activated": {
        "en": "{operator}: a new SIM is now active for {number} ({reference}). The old SIM no "
        "longer works.",
        "es": "{operator}: ya está activa una SIM nueva para {number} ({reference}). La SIM "
        "antigua ya no funciona.",
    },
    "port_out_requested": {
        "en": "{operator}: {carrier} asked to move your number {number} to them "
        '({reference}). Nothing happens unless you approve it: to approve, say "approve the '
        'transfer" to billbot.',
        "es": "{operator}: {carrier} ha pedido llevarse tu número {number} ({reference}). No "
        'pasará nada si no lo apruebas: para aprobarlo, escribe "aprobar la portabilidad" a '
        "billbot.",
    },
    "port_out_refused": {
        "en": "{operator}: we refused {carrier}'s request to move your number {number} "
        "({reference}): SIM changes and number transfers are locked on your account. If it was "
        'you, turn the lock off first (say "port lock") and ask them again.',
        "es": "{operator}: hemos rechazado la petición de {carrier} de llevarse tu número "
        "{number} ({reference}): los cambios de SIM y la portabilidad están bloqueados en tu "
        'cuenta. Si fuiste tú, quita el bloqueo (escribe "bloqueo de portabilidad") y pídeselo '
        "de nuevo.",
    },
    "port_out_approved": {
        "en": "{operator}: the transfer of your number {number} to {carrier} ({reference}) was "
        "approved. When {carrier} completes it, your service for that number with us ends.",
        "es": "{operator}: se ha aprobado la portabilidad de tu número {number} a {carrier} "
        "({reference}). Cuando {carrier} la complete, tu servicio de ese número con nosotros "
        "termina.",
    },
    "lock_off": {
        "en": "{operator}: the SIM-change and number-transfer lock on your account was turned "
        "off.",
        "es": "{operator}: se ha quitado el bloqueo de cambios de SIM y portabilidad de tu "
        "cuenta.",
    },
}
NOT_ME = {
    "en": "Not you? Tap the link or reply NOT ME: we'll stop it, lock your account and call you.",
    "es": "¿No has sido tú? Toca el enlace o responde NO FUI YO: lo pararemos, bloquearemos tu "
    "cuenta y te llamaremos.",
}
NOT_ME_LABEL = {"en": "Not me", "es": "No fui yo"}
SIM_WORDS = {"sim": {"en": "SIM card", "es": "tarjeta SIM"}, "esim": {"en": "eSIM", "es": "eSIM"}}


@dataclass(frozen=True, slots=True)
class SecurityEvent:
    """What happened, to which number, under which reference (S-…, PO-…, or the lock's)."""

    kind: SecurityEventKind
    reference: str
    msisdn: str = ""
    sim_kind: str = "sim"
    carrier: str = ""


class SecurityNotices:
    """Builds the notices of one event for every channel of the account's holder."""

    def __init__(
        self,
        *,
        billing: BillingClient,
        addresses: AddressBook | None,
        links: LinkSigner,
        operator: str,
    ) -> None:
        self._billing = billing
        self._addresses = addresses
        self._links = links
        self._operator = operator

    async def messages(
        self, account: Account, event: SecurityEvent, *, skip: tuple[str, str] | None = None
    ) -> list[OutboundMessage]:
        """One message per verified channel (but `skip`, the conversation that already knows)."""
        notice = self.reply(account, event)
        channels = await verified_channels(self._billing, self._addresses, account)
        return [
            OutboundMessage(
                channel, address, (notice,), KIND, _key(event, channel, address), account.id
            )
            for channel, address in channels
            if (channel, address) != skip
        ]

    def reply(self, account: Account, event: SecurityEvent) -> Reply:
        locale = account.locale
        sim = i18n.say(SIM_WORDS.get(event.sim_kind, SIM_WORDS["sim"]), locale)
        text = i18n.say(
            TEXTS[event.kind],
            locale,
            operator=self._operator,
            number=display(event.msisdn) if event.msisdn else "",
            reference=event.reference,
            carrier=event.carrier,
            sim=sim,
        )
        return Reply(
            text=f"{text} {i18n.say(NOT_ME, locale)}",
            link=self._links.not_me_url(account.id, event.reference),
            link_label=i18n.say(NOT_ME_LABEL, locale),
        )


def _key(event: SecurityEvent, channel: str, address: str) -> str:
    return f"{KIND}:{event.kind}:{event.reference}:{channel}:{address}"[:160]
