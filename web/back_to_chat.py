"""Where "Back to chat" on a pay page goes: the conversation the pay link was sent to.

The web chat is billbot's own page; SMS opens the phone's messages app at billbot's number;
WhatsApp opens `wa.me/<billbot's number>`. Telegram and channels whose billbot address is
unknown get no button (a dead link is worse than none): the payment confirmation arrives in
that chat anyway (`bot.pay_confirm`).
"""

from __future__ import annotations

from bot.services import Services
from bot.store.pay_origins import origin_of


async def back_to_chat(services: Services, link_id: str) -> str | None:
    origin = await origin_of(services.sessions, link_id)
    if origin is None:
        return "/" if services.settings.demo else None
    channels = services.settings.channels
    if origin.channel == "web":
        return "/"
    if origin.channel == "sms" and channels.twilio_sms_from:
        return f"sms:{channels.twilio_sms_from}"
    whatsapp = channels.twilio_whatsapp_from.removeprefix("whatsapp:").lstrip("+")
    if origin.channel == "whatsapp" and whatsapp.isdigit():
        return f"https://wa.me/{whatsapp}"
    return None
