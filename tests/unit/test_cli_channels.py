"""`billbot serve` says which channels are on and how messages are delivered."""

from __future__ import annotations

from bot.channel_settings import ChannelSettings
from bot.cli import channels_line
from bot.settings import Settings


def test_without_credentials_every_messaging_channel_is_off_and_delivery_is_the_sandbox() -> None:
    line = channels_line(Settings())

    assert line.startswith("Channels: web chat on; SMS (Twilio) off (no credentials)")
    assert "Telegram off (no credentials)" in line
    assert line.endswith("Delivery: sandbox: recorded, not sent.")


def test_a_channel_with_all_its_credentials_is_on() -> None:
    channels = ChannelSettings(telegram_bot_token="1:abc", telegram_webhook_secret="s3cret")

    line = channels_line(Settings(delivery="live", channels=channels))

    assert "Telegram on" in line and "WhatsApp (Meta Cloud API) off" in line
    assert line.endswith("Delivery: live.")
