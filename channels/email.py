"""Sending email through an SMTP server (aiosmtplib), for the outbox.

One message per outbox row, on its own connection: From is `BILLBOT_EMAIL_FROM` (its display
name, else the operator's name), the Subject comes from the row's kind (English or Spanish,
guessed from the text), the body is the replies as plain text (links and options on lines of
their own). The Message-ID is derived from `SendContext.idempotency_key`, so every attempt of
one row carries the same id (many receivers, Gmail among them, drop a second copy) and it is
the provider id the outbox records.

TLS: smtps:// is TLS from the first byte; smtp:// upgrades with STARTTLS when the server
offers it, and requires it when a password would otherwise cross the network in the clear
(any host but a loopback address). Certificates are verified.

Errors (docs/channels.md "Email"): a malformed address and a 5xx refusal of the recipient
or of the message are permanent; a 4xx is transient; a refused login or From address is a
configuration error, transient with a long pause (`CONFIG_RETRY_SECONDS`) so messages wait
for the fix instead of failing, and meanwhile the sender does not try that login again
(servers lock accounts that fail many). Connection errors and timeouts propagate: transient.
The body is never logged: one-time codes are written into it just before the send.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
import re
import time
from collections.abc import Callable, Sequence
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from bot.channel_settings import EmailFrom, SmtpServer, is_email_address
from bot.i18n import Messages, say
from bot.outbox.ports import DeliveryError, SendContext
from bot.types import Reply

TIMEOUT_SECONDS = 20.0  # per SMTP command; the outbox's own send timeout is 30 seconds
MAX_CONNECTIONS = 4  # at once per sender: relays limit concurrent connections per account
CONFIG_RETRY_SECONDS = 15 * 60.0  # a refused login or From waits this long between tries
SAID_MAX = 200

log = logging.getLogger(__name__)

SUBJECTS: dict[str, Messages] = {
    "bill_ready": {"en": "Your bill is ready", "es": "Tu factura está lista"},
    "bill_due": {"en": "Your bill is due soon", "es": "Tu factura vence pronto"},
    "bill_overdue": {"en": "Your bill is overdue", "es": "Tu factura está vencida"},
    "usage_threshold": {"en": "Your usage this cycle", "es": "Tu consumo de este ciclo"},
    "bill_limit": {"en": "Your spending limit", "es": "Tu límite de gasto"},
    "line_barred": {"en": "Your line is barred", "es": "Tu línea está bloqueada"},
    "low_balance": {"en": "Your balance is low", "es": "Tu saldo es bajo"},
    "payment_received": {"en": "Payment received", "es": "Pago recibido"},
    "autopay_failed": {"en": "Your automatic payment failed", "es": "Tu pago automático falló"},
    "bar_notice": {"en": "A line on your account was barred", "es": "Se bloqueó una línea"},
    "line_unbarred": {"en": "Your line is active again", "es": "Tu línea vuelve a funcionar"},
    "pin_locked": {"en": "Security notice: your PIN", "es": "Aviso de seguridad: tu PIN"},
    "pin_paused": {"en": "Security notice: your PIN", "es": "Aviso de seguridad: tu PIN"},
    "email_confirm": {"en": "Confirm your email address", "es": "Confirma tu correo"},
    "sign_in_code": {"en": "Your sign-in code", "es": "Tu código de acceso"},
    "link_code": {"en": "Your verification code", "es": "Tu código de verificación"},
    "ticket_updated": {"en": "Your support ticket", "es": "Tu incidencia"},
}
GENERIC_SUBJECT: Messages = {"en": "About your account", "es": "Sobre tu cuenta"}

# Words common in one language and rare in the other: enough to title a message, no more.
_SPANISH = frozenset(
    "de la el que tu tus su sus los las del por para con una es está han hemos sigue "  # noqa: SIM905
    "línea factura cuenta pago saldo gracias correo".split()
)
_ENGLISH = frozenset(
    "the your you to of and is for has was are with our this bill line account payment "  # noqa: SIM905
    "balance thank email".split()
)
_WORDS = re.compile(r"[^\W\d_]+")
_ADDRESSES = re.compile(r"[^\s<>@\"']+@[^\s<>@\"']+")


class EmailSender:
    """Sends the outbox's email rows through `server`, from `sender`; no I/O until a send."""

    def __init__(
        self,
        server: SmtpServer,
        sender: EmailFrom,
        *,
        display_name: str = "billbot",
        timeout: float = TIMEOUT_SECONDS,
        max_connections: int = MAX_CONNECTIONS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._server = server
        self._from = Address(sender.name or display_name, addr_spec=sender.address)
        self._domain = sender.domain
        self._timeout = timeout
        self._slots = asyncio.Semaphore(max_connections)
        self._monotonic = monotonic
        self._paused: tuple[float, str] | None = None  # (until, why): a login or From refused

    async def send(self, address: str, replies: Sequence[Reply], *, context: SendContext) -> str:
        """Send `replies` to `address` as one email; its Message-ID."""
        to, text = recipient(address), body(replies)
        if not text:
            raise DeliveryError(f"nothing to send to {mask_email(to)}: no text", permanent=True)
        message_id = message_id_for(context.idempotency_key, self._domain)
        message = compose(self._from, to, text, kind=context.kind, message_id=message_id)
        async with self._slots:
            self._check_paused()
            await self._submit(message, to)
        log.debug("SMTP server accepted %s for %s", message_id, mask_email(to))
        return message_id

    async def _submit(self, message: EmailMessage, to: str) -> None:
        server = self._server
        try:
            await aiosmtplib.send(
                message,
                hostname=server.host,
                port=server.port,
                username=server.username or None,
                password=server.password or None,
                use_tls=server.implicit_tls,
                start_tls=starttls(server),
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            raise refused_recipient(error.recipients[0], to) from None
        except (aiosmtplib.SMTPAuthenticationError, aiosmtplib.SMTPSenderRefused) as error:
            raise self._pause(error) from None
        except aiosmtplib.SMTPDataError as error:
            raise refused(error, f"refused the message to {mask_email(to)}") from None
        except aiosmtplib.SMTPNotSupported as error:  # a non-ASCII address, no SMTPUTF8
            reason = f"the SMTP server cannot send to {mask_email(to)}: {said(error.message)}"
            raise DeliveryError(reason, permanent=True) from None
        except aiosmtplib.SMTPException as error:
            if isinstance(error, ConnectionError | TimeoutError):
                raise  # transient; the outbox records the type
            # No STARTTLS or AUTH where required, a refused HELO: say so in the message log.
            raise DeliveryError(f"SMTP: {said(error.message)}") from None

    def _pause(self, error: aiosmtplib.SMTPResponseException) -> DeliveryError:
        """A configuration error: stop trying for a while (each message waits, none fails)."""
        what = "login" if isinstance(error, aiosmtplib.SMTPAuthenticationError) else "From"
        why = (
            f"the SMTP server refused the {what} ({error.code} {said(error.message)}): "
            "check BILLBOT_SMTP_URL and BILLBOT_EMAIL_FROM"
        )
        self._paused = (self._monotonic() + CONFIG_RETRY_SECONDS, why)
        log.error("email: %s", why)
        return DeliveryError(why, retry_after=CONFIG_RETRY_SECONDS)

    def _check_paused(self) -> None:
        if self._paused is None:
            return
        until, why = self._paused
        left = until - self._monotonic()
        if left <= 0:
            self._paused = None
            return
        raise DeliveryError(f"not tried: {why}", retry_after=left)


def starttls(server: SmtpServer) -> bool | None:
    """aiosmtplib's `start_tls`: off under implicit TLS; required before a password leaves
    this machine; otherwise used when the server offers it (None)."""
    if server.implicit_tls:
        return False
    if server.password and not is_loopback(server.host):
        return True
    return None


def is_loopback(host: str) -> bool:
    """Whether `host` is this machine (a local relay): "localhost" or a loopback address."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- the message ---------------------------------------------------------------------------------
def recipient(address: str) -> str:
    """The address, checked: DeliveryError (permanent) when it is no plain mailbox."""
    to = address.strip()
    if not is_email_address(to):
        raise DeliveryError(f"not an email address: {mask_email(to)}", permanent=True)
    return to


def message_id_for(idempotency_key: str, domain: str) -> str:
    """The same Message-ID for every attempt of one outbox row (the key hashed: it may hold
    a piece of a signed link, and headers travel through other people's logs)."""
    digest = hashlib.sha256(b"billbot email\0" + idempotency_key.encode()).hexdigest()[:40]
    return f"<{digest}@{_ascii_domain(domain)}>"


def _ascii_domain(domain: str) -> str:
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return "billbot.invalid"


def compose(sender: Address, to: str, text: str, *, kind: str, message_id: str) -> EmailMessage:
    """The plain-text email carrying `text` (see `body`)."""
    lang = language_of(text)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject(kind, lang)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies
    message.set_content(text)
    message["Content-Language"] = lang  # after set_content, which drops Content-* headers
    return message


def subject(kind: str, lang: str) -> str:
    """A short subject for the outbox kind (never the text: it may hold a code)."""
    return say(SUBJECTS.get(kind, GENERIC_SUBJECT), lang)


def body(replies: Sequence[Reply]) -> str:
    """The replies' texts separated by blank lines, each with its options and link."""
    return "\n\n".join(part for part in map(reply_text, replies) if part)


def reply_text(reply: Reply) -> str:
    """One reply: its text, its options as lines, then its link (and document) on lines of
    their own. An image (the pay QR) is left out when the link is there: it encodes the link."""
    lines = [reply.text.strip()]
    lines.extend(f"- {option.label}" for option in reply.options)
    if reply.link and reply.link not in reply.text:
        lines.append(_labelled(reply.link_label, reply.link))
    if reply.document_url and reply.document_url not in reply.text:
        lines.append(_labelled(reply.document_name, reply.document_url))
    if reply.image_url and not reply.link:
        lines.append(reply.image_url)
    return "\n".join(line for line in lines if line)


def _labelled(label: str | None, url: str) -> str:
    return f"{label}:\n{url}" if label else url


def language_of(text: str) -> str:
    """ "es" when the text reads as Spanish, else "en" (only the subject depends on it)."""
    words = [word.lower() for word in _WORDS.findall(text)]
    spanish = sum(word in _SPANISH for word in words)
    return "es" if spanish > sum(word in _ENGLISH for word in words) else "en"


# --- errors --------------------------------------------------------------------------------------
def refused_recipient(error: aiosmtplib.SMTPRecipientRefused, to: str) -> DeliveryError:
    """RCPT TO refused: 5xx for good (no such mailbox, domain, policy), 4xx for now."""
    return refused(error, f"refused the recipient {mask_email(to)}")


def refused(error: aiosmtplib.SMTPResponseException, what: str) -> DeliveryError:
    """The server's answer as a DeliveryError: permanent for 5xx, transient otherwise."""
    reason = f"the SMTP server {what}: {error.code} {said(error.message)}"
    return DeliveryError(reason, permanent=500 <= error.code < 600)


def said(message: str) -> str:
    """What the server said, one line, addresses masked, short."""
    return _ADDRESSES.sub(lambda m: mask_email(m.group()), " ".join(message.split()))[:SAID_MAX]


def mask_email(address: str) -> str:
    """ "maria.garcia@example.com" → "m•••@example.com" (logs and stored reasons)."""
    local, at, domain = address.strip().rpartition("@")
    if not at:
        return "•••"
    return f"{local[:1]}•••@{domain}"
