"""How many SMS segments billbot's replies take, over the demo conversations.

Every demo customer's typical conversation is sent through the engine on the SMS channel
(sandbox delivery), and each queued reply is rendered as `channels.sms_text` sends it.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

from bench.databases import billbot_env, prepare, sqlite_url

CONVERSATIONS = {
    "+12025550101": [
        "hi",
        "what do I owe",
        "pay my bill",
        "how much data have I used",
        "send me my bill",
        "menu",
        "1",
        "thanks",
    ],
    "+12025550102": [
        "balance",
        "my phone was stolen",
        "2",
        "1357",
        "yes",
        "my internet keeps dropping",
        "yes",
        "usage",
    ],
    "+12025550104": ["hola", "cuánto saldo tengo", "consumo", "menú", "gracias"],
    "+12025550199": ["I lost my phone, it was 202-555-0101", "2468", "yes", "balance"],
}


async def segments_section() -> list[str]:
    from channels.sms_text import encoding, render_sms, segments

    counts: Counter[int] = Counter()
    encodings: Counter[str] = Counter()
    for body in await _sms_bodies(render_sms):
        counts[segments(body)] += 1
        encodings[encoding(body)] += 1
    total = sum(counts.values())
    one = counts.get(1, 0)
    lines = [
        "## SMS segments of the demo conversations' replies",
        "",
        f"{total} SMS bodies; **{one / total:.0%} fit one segment**, "
        f"{sum(n for s, n in counts.items() if s <= 2) / total:.0%} two or fewer, "
        f"the longest {max(counts)} segments; GSM-7 {encodings['GSM-7']}, "
        f"UCS-2 {encodings['UCS-2']} (Spanish accents).",
        "",
        "| segments | bodies |",
        "|--:|--:|",
        *(f"| {size} | {counts[size]} |" for size in sorted(counts)),
    ]
    return lines


async def _sms_bodies(render: object) -> list[str]:
    from bot.bootstrap import build_services
    from bot.settings import Settings
    from bot.types import InboundMessage

    bodies: list[str] = []
    with tempfile.TemporaryDirectory(prefix="billbot-segments-") as tmp:
        env = billbot_env(sqlite_url(Path(tmp)), Path(tmp))
        await prepare(env)
        services = await build_services(Settings.from_env(env))
        try:
            for phone, texts in CONVERSATIONS.items():
                for serial, text in enumerate(texts):
                    message = InboundMessage(
                        channel="sms",
                        sender=phone,
                        text=text,
                        external_id=f"seg-{phone}-{serial}",
                        received_at=services.clock.now(),
                        as_phone=phone,
                    )
                    answer = await services.conversations.answer(message, push=True)
                    bodies += render(answer.replies)  # type: ignore[operator]
        finally:
            await services.close()
    return bodies
