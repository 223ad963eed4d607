"""The email channel's settings (BILLBOT_SMTP_URL, BILLBOT_EMAIL_FROM) and its pure parts:
subject, body, language, Message-ID, when STARTTLS is required."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.channel_settings import (
    ChannelSettings,
    ChannelSettingsError,
    EmailFrom,
    SmtpServer,
    email_from,
    smtp_server,
)
from bot.cli import channels_line
from bot.settings import Settings, SettingsError
from bot.types import Option, Reply
from channels.email import body, language_of, mask_email, message_id_for, starttls, subject

SECRET = "unit-test-secret-key-0123456789"


def _env(tmp_path: Path, **values: str) -> dict[str, str]:
    return {"BILLBOT_ENV_FILE": str(tmp_path / "no.env"), "BILLBOT_SECRET_KEY": SECRET, **values}


# --- BILLBOT_SMTP_URL --------------------------------------------------------------------------


def test_a_submission_url_gives_host_port_and_the_percent_decoded_password() -> None:
    server = smtp_server("smtp://mailer%2Bbot:p%40ss%3Aw%2Frd@mail.example.com:587")

    assert server == SmtpServer("mail.example.com", 587, "mailer+bot", "p@ss:w/rd")
    assert not server.implicit_tls


def test_smtps_is_implicit_tls_on_465_unless_a_port_is_given() -> None:
    assert smtp_server("smtps://u:pw@mail.example.com") == SmtpServer(
        "mail.example.com", 465, "u", "pw", implicit_tls=True
    )
    assert smtp_server("SMTPS://u:pw@mail.example.com:2465") == SmtpServer(
        "mail.example.com", 2465, "u", "pw", implicit_tls=True
    )


def test_a_relay_without_credentials_defaults_to_port_25() -> None:
    assert smtp_server("smtp://relay.internal") == SmtpServer("relay.internal", 25)


def test_no_url_is_no_server() -> None:
    assert smtp_server("") is None


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://u:secret@mail.example.com", "scheme"),
        ("mail.example.com:587", "scheme"),
        ("smtp://u:secret@:587", "no host"),
        ("smtp://", "no host"),
        ("smtp://u:secret@mail.example.com:0", "port"),
        ("smtp://u:secret@mail.example.com:smtp", "port"),
        ("smtp://u:secret@mail.example.com:70000", "port"),
        ("smtp://u@mail.example.com", "user and a password"),
        ("smtp://:secret@mail.example.com", "user and a password"),
        ("smtp://u:sec/ret@mail.example.com", "percent-encode"),
        ("smtp://u:secret@mail.example.com/inbox", "percent-encode"),
        ("smtp://u:secret@[mail.example.com", "malformed"),
    ],
)
def test_a_malformed_url_is_a_clear_error_that_never_quotes_the_password(
    url: str, why: str
) -> None:
    with pytest.raises(ChannelSettingsError) as raised:
        smtp_server(url)

    assert "BILLBOT_SMTP_URL" in str(raised.value) and why in str(raised.value)
    assert "secret" not in str(raised.value)


def test_settings_read_both_variables_and_turn_email_on(tmp_path: Path) -> None:
    env = _env(
        tmp_path,
        BILLBOT_SMTP_URL="smtp://billbot:p%40ss@mail.example.com:587",
        BILLBOT_EMAIL_FROM="Example Mobile <billing@example.com>",
    )

    channels = Settings.from_env(env).channels

    assert channels.email_on
    assert channels.smtp == SmtpServer("mail.example.com", 587, "billbot", "p@ss")
    assert channels.email_from == EmailFrom("billing@example.com", "Example Mobile")


def test_a_bad_smtp_url_is_a_settings_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="BILLBOT_SMTP_URL"):
        Settings.from_env(_env(tmp_path, BILLBOT_SMTP_URL="smtp://u:hunter2@/"))


def test_the_password_stays_out_of_the_settings_repr(tmp_path: Path) -> None:
    env = _env(
        tmp_path,
        BILLBOT_SMTP_URL="smtps://billbot:hunter2-secret@mail.example.com",
        BILLBOT_EMAIL_FROM="billing@example.com",
    )

    settings = Settings.from_env(env)

    assert "hunter2" not in repr(settings)
    assert "mail.example.com" in repr(settings)


def test_email_is_on_only_with_both_settings() -> None:
    server, sender = SmtpServer("127.0.0.1", 25), EmailFrom("billing@example.com")
    assert ChannelSettings(smtp=server, email_from=sender).email_on
    assert not ChannelSettings(smtp=server).email_on
    assert not ChannelSettings(email_from=sender).email_on


def test_the_serve_banner_says_whether_email_is_on() -> None:
    on = ChannelSettings(smtp=SmtpServer("h", 25), email_from=EmailFrom("b@example.com"))

    assert "Email (SMTP) off (no credentials)" in channels_line(Settings())
    assert "Email (SMTP) on" in channels_line(Settings(channels=on))


# --- BILLBOT_EMAIL_FROM ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("billing@example.com", EmailFrom("billing@example.com")),
        (
            "Example Mobile <billing@example.com>",
            EmailFrom("billing@example.com", "Example Mobile"),
        ),
        (
            '"Example, Inc." <billing@example.com>',
            EmailFrom("billing@example.com", "Example, Inc."),
        ),
    ],
)
def test_the_from_address_may_carry_a_display_name(raw: str, expected: EmailFrom) -> None:
    assert email_from(raw) == expected


@pytest.mark.parametrize(
    "raw", ["billing", "billing@localhost", "Example <billing@>", "a@b.com\r\nBcc: x@y.com"]
)
def test_a_from_that_is_no_address_is_refused(raw: str) -> None:
    with pytest.raises(ChannelSettingsError, match="BILLBOT_EMAIL_FROM"):
        email_from(raw)


# --- the message -------------------------------------------------------------------------------


def test_a_password_never_crosses_the_network_in_the_clear() -> None:
    assert starttls(SmtpServer("mail.example.com", 587, "u", "pw")) is True  # required
    assert starttls(SmtpServer("127.0.0.1", 1025, "u", "pw")) is None  # a local relay
    assert starttls(SmtpServer("localhost", 1025, "u", "pw")) is None
    assert starttls(SmtpServer("relay.internal", 25)) is None  # when offered
    assert starttls(SmtpServer("mail.example.com", 465, "u", "pw", implicit_tls=True)) is False


def test_the_body_puts_links_and_options_on_lines_of_their_own() -> None:
    replies = [
        Reply("Your bill is ready.", link="https://x.test/i/1", link_label="See it"),
        Reply("Pay now?", options=(Option("Yes", "yes"), Option("Later", "later"))),
        Reply("Open https://x.test/p/2 to pay.", link="https://x.test/p/2"),
        Reply("Your invoice.", document_url="https://x.test/i/1.pdf", document_name="INV-1.pdf"),
    ]

    assert body(replies) == (
        "Your bill is ready.\nSee it:\nhttps://x.test/i/1\n\n"
        "Pay now?\n- Yes\n- Later\n\n"
        "Open https://x.test/p/2 to pay.\n\n"
        "Your invoice.\nINV-1.pdf:\nhttps://x.test/i/1.pdf"
    )


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Example Mobile: tu factura de $64.20 vence mañana.", "es"),
        ("Example Mobile: your bill of $64.20 is due tomorrow.", "en"),
        ("Confirma tu dirección de correo: https://x.test/c/abc", "es"),
        ("123456", "en"),
    ],
)
def test_the_language_is_guessed_from_the_text(text: str, lang: str) -> None:
    assert language_of(text) == lang


def test_subjects_come_from_the_kind_in_the_language_with_a_generic_fallback() -> None:
    assert subject("email_confirm", "en") == "Confirm your email address"
    assert subject("bill_ready", "es") == "Tu factura está lista"
    assert subject("no_such_kind", "es") == "Sobre tu cuenta"
    assert subject("bill_ready", "fr") == "Your bill is ready"


def test_the_message_id_is_stable_per_key_and_shows_nothing_of_it() -> None:
    first = message_id_for("email_confirm:secret-token-part", "example.com")

    assert first == message_id_for("email_confirm:secret-token-part", "example.com")
    assert first != message_id_for("email_confirm:other", "example.com")
    assert first.endswith("@example.com>") and "secret" not in first
    assert message_id_for("k", "bücher.example").endswith("@xn--bcher-kva.example>")


def test_addresses_are_masked_for_logs() -> None:
    assert mask_email("maria.garcia@example.com") == "m•••@example.com"
    assert mask_email("nonsense") == "•••"
