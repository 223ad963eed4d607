"""The messaging channels' settings (DESIGN.md §5a, a contract): credentials, endpoints, templates.

A channel is **on** when its credentials are all set: its webhook answers, and with
`BILLBOT_DELIVERY=live` its messages are sent. A channel without them is off: its webhook
answers 404 and its messages stay in the sandbox log. Endpoints default to the providers' own
and can be pointed elsewhere (tests point them at fakes on 127.0.0.1).

Templates for WhatsApp's 24-hour rule are given per outbox kind, `kind:name` pairs separated by
commas (`bar_notice:billbot_bar_notice,reply:billbot_reply`); `*` is the template for any kind
without its own.

Email goes through an SMTP server: `BILLBOT_SMTP_URL` (`smtp://user:password@host:587`,
`smtps://user:password@host:465`, `smtp://host:25`; user and password percent-encoded) and
`BILLBOT_EMAIL_FROM` (`billing@example.com` or `Example Mobile <billing@example.com>`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from urllib.parse import unquote, urlsplit

TWILIO_API_BASE = "https://api.twilio.com"
META_GRAPH_BASE = "https://graph.facebook.com"
META_GRAPH_VERSION = "v21.0"
TELEGRAM_API_BASE = "https://api.telegram.org"
_TELEGRAM_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
SMTP_PORTS = {"smtp": 25, "smtps": 465}  # the schemes' ports when the URL names none
# local@domain.tld: no spaces, brackets, quotes or separators; the domain has a dot and no
# empty label. Stricter than RFC 5322 on purpose: what billbot sends to is a plain mailbox.
_ATOM = r'[^\s@<>()\[\],;:"\\]'
_LABEL = r'[^\s@<>()\[\],;:"\\.]+'
_EMAIL_ADDRESS = re.compile(rf"^{_ATOM}{{1,64}}@(?:{_LABEL}\.)+{_LABEL}$")
_SMTP_URL_HINT = (
    "BILLBOT_SMTP_URL must look like smtp://user:password@host:587, smtps://user:password@host"
    ":465 or smtp://host:25"
)


class ChannelSettingsError(ValueError):
    """A channel setting is invalid; the message names it."""


@dataclass(frozen=True, slots=True)
class SmtpServer:
    """Where email goes: `BILLBOT_SMTP_URL`, parsed (the password kept out of repr).

    `implicit_tls` (smtps://): TLS from the first byte. Otherwise STARTTLS when the server
    offers it (channels/email.py says when it is required).
    """

    host: str
    port: int
    username: str = ""
    password: str = field(default="", repr=False)
    implicit_tls: bool = False


@dataclass(frozen=True, slots=True)
class EmailFrom:
    """`BILLBOT_EMAIL_FROM`: the sending address and its display name (empty: none given)."""

    address: str
    name: str = ""

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]


@dataclass(frozen=True, slots=True)
class ChannelSettings:
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_sms_from: str = ""
    twilio_messaging_service_sid: str = ""
    twilio_whatsapp_from: str = ""  # "whatsapp:+1…"
    twilio_api_base: str = TWILIO_API_BASE
    twilio_whatsapp_templates: Mapping[str, str] = field(default_factory=dict)  # kind → HX…
    whatsapp_access_token: str = ""
    whatsapp_app_secret: str = ""
    whatsapp_verify_token: str = ""
    whatsapp_phone_number_id: str = ""
    meta_graph_base: str = META_GRAPH_BASE
    meta_graph_version: str = META_GRAPH_VERSION
    whatsapp_templates: Mapping[str, str] = field(default_factory=dict)  # kind → template name
    whatsapp_template_language: str = "en_US"
    telegram_bot_token: str = ""
    telegram_webhook_secret: str = ""
    telegram_api_base: str = TELEGRAM_API_BASE
    smtp: SmtpServer | None = None
    email_from: EmailFrom | None = None
    # Who runs this bot, for SMS HELP replies and notices.
    operator_name: str = "billbot"
    support_contact: str = "support@example.com"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ChannelSettings:
        def get(name: str, default: str = "") -> str:
            return (env.get(name) or default).strip()

        settings = cls(
            twilio_account_sid=get("BILLBOT_TWILIO_ACCOUNT_SID"),
            twilio_auth_token=get("BILLBOT_TWILIO_AUTH_TOKEN"),
            twilio_sms_from=get("BILLBOT_TWILIO_SMS_FROM"),
            twilio_messaging_service_sid=get("BILLBOT_TWILIO_MESSAGING_SERVICE_SID"),
            twilio_whatsapp_from=get("BILLBOT_TWILIO_WHATSAPP_FROM"),
            twilio_api_base=get("BILLBOT_TWILIO_API_BASE", TWILIO_API_BASE).rstrip("/"),
            twilio_whatsapp_templates=templates(
                "BILLBOT_TWILIO_WHATSAPP_TEMPLATES", get("BILLBOT_TWILIO_WHATSAPP_TEMPLATES")
            ),
            whatsapp_access_token=get("BILLBOT_WHATSAPP_ACCESS_TOKEN"),
            whatsapp_app_secret=get("BILLBOT_WHATSAPP_APP_SECRET"),
            whatsapp_verify_token=get("BILLBOT_WHATSAPP_VERIFY_TOKEN"),
            whatsapp_phone_number_id=get("BILLBOT_WHATSAPP_PHONE_NUMBER_ID"),
            meta_graph_base=get("BILLBOT_META_GRAPH_BASE", META_GRAPH_BASE).rstrip("/"),
            meta_graph_version=get("BILLBOT_META_GRAPH_VERSION", META_GRAPH_VERSION),
            whatsapp_templates=templates(
                "BILLBOT_WHATSAPP_TEMPLATES", get("BILLBOT_WHATSAPP_TEMPLATES")
            ),
            whatsapp_template_language=get("BILLBOT_WHATSAPP_TEMPLATE_LANGUAGE", "en_US"),
            telegram_bot_token=get("BILLBOT_TELEGRAM_BOT_TOKEN"),
            telegram_webhook_secret=get("BILLBOT_TELEGRAM_WEBHOOK_SECRET"),
            telegram_api_base=get("BILLBOT_TELEGRAM_API_BASE", TELEGRAM_API_BASE).rstrip("/"),
            smtp=smtp_server(get("BILLBOT_SMTP_URL")),
            email_from=email_from(get("BILLBOT_EMAIL_FROM")),
            operator_name=get("BILLBOT_OPERATOR_NAME", "billbot"),
            support_contact=get("BILLBOT_SUPPORT_CONTACT", "support@example.com"),
        )
        settings.check()
        return settings

    def check(self) -> None:
        secret = self.telegram_webhook_secret
        if secret and not _TELEGRAM_SECRET.match(secret):
            raise ChannelSettingsError(
                "BILLBOT_TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z a-z 0-9 _ -"
            )
        sender = self.twilio_whatsapp_from
        if sender and not sender.startswith("whatsapp:+"):
            raise ChannelSettingsError(
                'BILLBOT_TWILIO_WHATSAPP_FROM must look like "whatsapp:+1…"'
            )

    # --- which channels are on ---------------------------------------------------------------
    @property
    def twilio_credentials(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token)

    @property
    def twilio_sms_on(self) -> bool:
        return self.twilio_credentials and bool(
            self.twilio_sms_from or self.twilio_messaging_service_sid
        )

    @property
    def twilio_whatsapp_on(self) -> bool:
        return self.twilio_credentials and bool(self.twilio_whatsapp_from)

    @property
    def whatsapp_cloud_on(self) -> bool:
        return all(
            (
                self.whatsapp_access_token,
                self.whatsapp_app_secret,
                self.whatsapp_verify_token,
                self.whatsapp_phone_number_id,
            )
        )

    @property
    def telegram_on(self) -> bool:
        return bool(self.telegram_bot_token and self.telegram_webhook_secret)

    @property
    def email_on(self) -> bool:
        return self.smtp is not None and self.email_from is not None

    def summary(self) -> list[tuple[str, bool]]:
        """(what, on?) for each channel, as `billbot serve` prints it."""
        return [
            ("SMS (Twilio)", self.twilio_sms_on),
            ("WhatsApp (Twilio)", self.twilio_whatsapp_on),
            ("WhatsApp (Meta Cloud API)", self.whatsapp_cloud_on),
            ("Telegram", self.telegram_on),
            ("Email (SMTP)", self.email_on),
        ]


def templates(name: str, raw: str) -> dict[str, str]:
    """`kind:template,kind:template` as a mapping; ChannelSettingsError naming `name` if bad."""
    found: dict[str, str] = {}
    for pair in filter(None, (part.strip() for part in raw.split(","))):
        kind, colon, template = (piece.strip() for piece in pair.partition(":"))
        if not colon or not kind or not template:
            raise ChannelSettingsError(f"{name} must be kind:template pairs, not {pair!r}")
        found[kind] = template
    return found


def template_for(templates: Mapping[str, str], kind: str) -> str | None:
    """The template for `kind`, else the catch-all `*`, else None."""
    return templates.get(kind) or templates.get("*")


def smtp_server(raw: str) -> SmtpServer | None:
    """`BILLBOT_SMTP_URL` parsed (empty: None); ChannelSettingsError if malformed.

    The error never quotes the URL: it may hold the password.
    """
    if not raw:
        return None
    try:
        url = urlsplit(raw)
        host = url.hostname
    except ValueError:  # a bracketed host that is no IPv6 address
        raise ChannelSettingsError(f"{_SMTP_URL_HINT} (its host is malformed)") from None
    scheme = url.scheme.lower()
    if scheme not in SMTP_PORTS:
        raise ChannelSettingsError(f"{_SMTP_URL_HINT} (the scheme must be smtp or smtps)")
    if not host:
        raise ChannelSettingsError(f"{_SMTP_URL_HINT} (it names no host)")
    if url.path not in ("", "/") or url.query or url.fragment:
        raise ChannelSettingsError(
            f"{_SMTP_URL_HINT} (no path or query: percent-encode / ? # in the password)"
        )
    username, password = unquote(url.username or ""), unquote(url.password or "")
    if bool(username) != bool(password):
        raise ChannelSettingsError(f"{_SMTP_URL_HINT} (give a user and a password, or neither)")
    return SmtpServer(
        host=host,
        port=_port(raw) or SMTP_PORTS[scheme],
        username=username,
        password=password,
        implicit_tls=scheme == "smtps",
    )


def _port(raw: str) -> int | None:
    try:
        port = urlsplit(raw).port
    except ValueError:
        port = 0
    if port == 0:
        raise ChannelSettingsError(f"{_SMTP_URL_HINT} (the port must be 1-65535)")
    return port


def email_from(raw: str) -> EmailFrom | None:
    """`BILLBOT_EMAIL_FROM` parsed (empty: None); ChannelSettingsError if it is no address."""
    if not raw:
        return None
    name, address = parseaddr(raw)
    if any(ord(c) < 32 for c in raw) or not is_email_address(address):
        raise ChannelSettingsError(
            'BILLBOT_EMAIL_FROM must be an address, "billing@example.com" or '
            '"Example Mobile <billing@example.com>"'
        )
    return EmailFrom(address, name.strip())


def is_email_address(text: str) -> bool:
    """Whether `text` is a plain `local@domain.tld` address (no display name, at most 254)."""
    return len(text) <= 254 and _EMAIL_ADDRESS.match(text) is not None
