"""The email sender with the real aiosmtplib client against a real SMTP server on 127.0.0.1
(aiosmtpd), alone and as the outbox's sender for the "email" channel."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import pytest

from bot.bootstrap import build_services
from bot.channel_settings import ChannelSettings, EmailFrom, SmtpServer
from bot.clock import FakeClock
from bot.nlu import NluModel
from bot.otp import OneTimeCodes, placeholder
from bot.outbox.ports import DeliveryError, SendContext
from bot.services import Services
from bot.types import Option, OutboundMessage, Reply
from channels.email import CONFIG_RETRY_SECONDS, EmailSender
from tests.helpers import TEST_SECRET, live_settings
from tests.smtp_fake import FakeSmtp, closed_port

FROM = EmailFrom("billing@example.com", "Example Mobile")
ALEX = "alex.rivera@example.com"
MARIA = "maria.garcia@example.com"
CONTEXT = SendContext(kind="bill_ready", idempotency_key="bill_ready:7:INV-1")
BILL = Reply(
    "Your bill INV-1 for $64.20 is ready, due Mar 24.",
    link="https://bot.example.com/account/invoices/7",
    link_label="See your bill",
)
USER, PASSWORD = "billbot", "p@ss:w/rd"


class Seconds:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def smtp() -> Iterator[FakeSmtp]:
    with FakeSmtp(
        refuse={
            "nobody@example.com": "550 5.1.1 <nobody@example.com>: user unknown",
            "busy@example.com": "450 4.2.1 <busy@example.com>: mailbox busy, try later",
        }
    ) as server:
        yield server


@pytest.fixture
def authenticating() -> Iterator[FakeSmtp]:
    with FakeSmtp(login=(USER, PASSWORD)) as server:
        yield server


def ours(caplog: pytest.LogCaptureFixture) -> str:
    """What billbot logged (the fake server's own `mail.log` logs the whole conversation)."""
    return "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail."))


def sender_for(
    fake: FakeSmtp, *, username: str = "", password: str = "", monotonic: Seconds | None = None
) -> EmailSender:
    server = SmtpServer(fake.host, fake.port, username=username, password=password)
    return EmailSender(server, FROM, monotonic=monotonic or Seconds())


# --- what arrives ------------------------------------------------------------------------------


async def test_an_email_arrives_with_its_headers_subject_and_the_link_on_its_own_line(
    smtp: FakeSmtp,
) -> None:
    message_id = await sender_for(smtp).send(ALEX, [BILL], context=CONTEXT)

    [received] = smtp.received
    assert (received.mail_from, received.rcpt_tos) == ("billing@example.com", (ALEX,))
    message = received.message
    assert message["From"] == "Example Mobile <billing@example.com>"
    assert message["To"] == ALEX
    assert message["Subject"] == "Your bill is ready"
    assert message["Message-ID"] == message_id
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Date"]
    assert message.get_content_type() == "text/plain"
    lines = message.get_content().splitlines()
    assert lines[0] == BILL.text
    assert "See your bill:" in lines
    assert "https://bot.example.com/account/invoices/7" in lines


async def test_spanish_text_arrives_intact_in_utf8_with_a_spanish_subject(
    smtp: FakeSmtp,
) -> None:
    text = "Example Mobile: ¡gracias! Hemos recibido 12,50 € para tu factura. Referencia: P-1."
    context = SendContext(kind="payment_received", idempotency_key="payment_received:p-1")

    await sender_for(smtp).send(MARIA, [Reply(text)], context=context)

    message = smtp.messages[0]
    assert message["Subject"] == "Pago recibido"
    assert message["Content-Language"] == "es"
    assert message.get_content_charset() == "utf-8"
    assert message.get_content().strip() == text


async def test_replies_are_separated_by_blank_lines_with_their_options_as_lines(
    smtp: FakeSmtp,
) -> None:
    replies = [
        Reply("Your line +1 202-555-0103 was barred."),
        Reply("What next?", options=(Option("Pay now", "pay"), Option("Menu", "menu"))),
    ]

    await sender_for(smtp).send(ALEX, replies, context=CONTEXT)

    body = smtp.messages[0].get_content()
    assert body.strip() == (
        "Your line +1 202-555-0103 was barred.\n\nWhat next?\n- Pay now\n- Menu"
    )


async def test_an_unknown_kind_gets_the_generic_subject(smtp: FakeSmtp) -> None:
    context = SendContext(kind="something_new", idempotency_key="k")
    await sender_for(smtp).send(ALEX, [Reply("Hello.")], context=context)
    assert smtp.messages[0]["Subject"] == "About your account"


async def test_without_a_display_name_from_shows_the_one_given(smtp: FakeSmtp) -> None:
    server = SmtpServer(smtp.host, smtp.port)
    sender = EmailSender(server, EmailFrom("billing@example.com"), display_name="Acme Telecom")

    await sender.send(ALEX, [BILL], context=CONTEXT)

    assert smtp.messages[0]["From"] == "Acme Telecom <billing@example.com>"


async def test_a_retried_send_carries_the_same_message_id(smtp: FakeSmtp) -> None:
    sender = sender_for(smtp)
    other = SendContext(kind="bill_ready", idempotency_key="bill_ready:7:INV-2")

    first = await sender.send(ALEX, [BILL], context=CONTEXT)
    again = await sender.send(ALEX, [BILL], context=CONTEXT)
    third = await sender.send(ALEX, [BILL], context=other)

    assert first == again != third
    assert [m["Message-ID"] for m in smtp.messages] == [first, again, third]
    assert first.startswith("<") and first.endswith("@example.com>")
    assert "INV-1" not in first  # the key is hashed, not shown


async def test_the_body_is_never_logged(smtp: FakeSmtp, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        await sender_for(smtp).send(ALEX, [Reply("Your code is 493817.")], context=CONTEXT)

    assert "493817" in smtp.messages[0].get_content()
    assert "493817" not in ours(caplog)
    assert ALEX not in ours(caplog)


# --- refusals ----------------------------------------------------------------------------------


async def test_a_recipient_the_server_refuses_with_550_is_a_permanent_failure(
    smtp: FakeSmtp,
) -> None:
    with pytest.raises(DeliveryError) as refused:
        await sender_for(smtp).send("nobody@example.com", [BILL], context=CONTEXT)

    assert refused.value.permanent
    assert not refused.value.unreachable  # nothing lifts a suppression on email
    assert "550" in refused.value.reason
    assert "nobody@example.com" not in refused.value.reason  # masked
    assert smtp.received == []


async def test_a_4xx_refusal_is_tried_again_later(smtp: FakeSmtp) -> None:
    with pytest.raises(DeliveryError) as refused:
        await sender_for(smtp).send("busy@example.com", [BILL], context=CONTEXT)

    assert not refused.value.permanent
    assert "450" in refused.value.reason


async def test_a_message_the_server_refuses_at_data_is_a_permanent_failure() -> None:
    with (
        FakeSmtp(refuse_data="554 5.7.1 Message refused as spam") as fake,
        pytest.raises(DeliveryError) as refused,
    ):
        await sender_for(fake).send(ALEX, [BILL], context=CONTEXT)

    assert refused.value.permanent
    assert "554" in refused.value.reason


@pytest.mark.parametrize(
    "address",
    [
        "not-an-address",
        "alex@",
        "alex@localhost",
        "a b@example.com",
        "Alex <alex@example.com>",
        "alex@example.com\r\nBcc: someone@example.com",
    ],
)
async def test_a_malformed_address_is_a_permanent_failure_without_a_connection(
    smtp: FakeSmtp, address: str
) -> None:
    with pytest.raises(DeliveryError) as refused:
        await sender_for(smtp).send(address, [BILL], context=CONTEXT)

    assert refused.value.permanent
    assert smtp.received == []


async def test_empty_replies_are_refused_without_a_connection(smtp: FakeSmtp) -> None:
    with pytest.raises(DeliveryError) as refused:
        await sender_for(smtp).send(ALEX, [Reply("  ")], context=CONTEXT)
    assert refused.value.permanent


async def test_a_refused_connection_is_a_transient_error() -> None:
    sender = EmailSender(SmtpServer("127.0.0.1", closed_port()), FROM, timeout=5)

    with pytest.raises(ConnectionError) as failed:
        await sender.send(ALEX, [BILL], context=CONTEXT)

    assert not isinstance(failed.value, DeliveryError)


# --- logging in --------------------------------------------------------------------------------


async def test_the_sender_logs_in_with_the_user_and_password(authenticating: FakeSmtp) -> None:
    sender = sender_for(authenticating, username=USER, password=PASSWORD)

    await sender.send(ALEX, [BILL], context=CONTEXT)

    assert authenticating.logins == [(USER, True)]
    assert len(authenticating.received) == 1


async def test_a_wrong_password_is_transient_and_pauses_further_logins(
    authenticating: FakeSmtp,
) -> None:
    seconds = Seconds()
    sender = sender_for(authenticating, username=USER, password="wrong", monotonic=seconds)

    with pytest.raises(DeliveryError) as refused:
        await sender.send(ALEX, [BILL], context=CONTEXT)
    tries = len(authenticating.logins)
    with pytest.raises(DeliveryError) as paused:
        await sender.send(MARIA, [BILL], context=CONTEXT)

    assert not refused.value.permanent and refused.value.retry_after == CONFIG_RETRY_SECONDS
    assert "login" in refused.value.reason and "BILLBOT_SMTP_URL" in refused.value.reason
    assert "wrong" not in refused.value.reason
    assert tries >= 1 and not any(accepted for _, accepted in authenticating.logins)
    assert not paused.value.permanent and len(authenticating.logins) == tries  # not tried
    assert 0 < (paused.value.retry_after or 0) <= CONFIG_RETRY_SECONDS

    seconds.now += CONFIG_RETRY_SECONDS
    with pytest.raises(DeliveryError):
        await sender.send(MARIA, [BILL], context=CONTEXT)
    assert len(authenticating.logins) > tries  # after the pause it tries again
    assert authenticating.received == []


# --- through the outbox ------------------------------------------------------------------------


@pytest.fixture
async def emailing(
    demo_sqlite_url: str, clock: FakeClock, nlu_model: NluModel, smtp: FakeSmtp
) -> AsyncIterator[Services]:
    """Live services whose only channel is email, through the fake SMTP server."""
    channels = ChannelSettings(
        smtp=SmtpServer(smtp.host, smtp.port), email_from=EmailFrom("billing@example.com")
    )
    settings = live_settings(demo_sqlite_url, channels, public_url="https://bot.example.com")
    services = await build_services(settings, clock=clock, nlu=nlu_model)
    try:
        yield services
    finally:
        await services.close()


async def test_the_outbox_delivers_an_email_row_live_and_records_it_sent(
    emailing: Services, smtp: FakeSmtp, caplog: pytest.LogCaptureFixture
) -> None:
    reference = OneTimeCodes.new_reference()
    text = f"Your sign-in code is {placeholder(reference)}. It expires in 10 minutes."
    await emailing.outbox.enqueue(
        OutboundMessage("email", ALEX, (Reply(text),), "sign_in_code", "sign_in_code:e2e")
    )

    with caplog.at_level(logging.DEBUG):
        assert await emailing.outbox.deliver_due() == 1

    code = OneTimeCodes(TEST_SECRET).code(reference)
    [message] = smtp.messages
    assert message["To"] == ALEX and message["Subject"] == "Your sign-in code"
    assert message["From"] == "billbot <billing@example.com>"
    assert f"Your sign-in code is {code}." in message.get_content()
    assert code not in ours(caplog)
    [entry] = await emailing.outbox.list()
    assert (entry.channel, entry.status) == ("email", "sent")
    assert entry.provider_id == message["Message-ID"]
    assert "email" in emailing.outbox.live_channels


async def test_a_refused_recipient_fails_the_row_for_good(
    emailing: Services, smtp: FakeSmtp
) -> None:
    await emailing.outbox.enqueue(
        OutboundMessage(
            "email", "nobody@example.com", (BILL,), "email_confirm", "email_confirm:e2e"
        )
    )

    await emailing.outbox.deliver_due()

    [entry] = await emailing.outbox.list()
    assert entry.status == "failed" and "550" in (entry.last_error or "")
    assert smtp.received == []
