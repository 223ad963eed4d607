"""Server-rendered SVG charts (no script, no CDN): a usage meter per allowance.

Presentation attributes only — the pages' Content-Security-Policy allows no inline styles.
Each chart carries a text alternative (`<title>` + `aria-labelledby`), and the figures are
also in the page as text, so the chart is never the only way to read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT, BAR = 300, 28, 14
TRACK, FILL, WARN, FULL = "#d5dde6", "#0b5cad", "#a45a00", "#b42318"


@dataclass(frozen=True, slots=True)
class Meter:
    """One allowance: `used` of `allowance` (None: unlimited), with its words."""

    key: str  # unique on the page, for the ids
    label: str  # "Data: 41.5 GB of 50 GB"
    used: float
    allowance: float | None


def meter_svg(meter: Meter) -> Markup:
    """A horizontal bar: grey track, fill to the share used (amber ≥ 80 %, red at 100 %)."""
    share = 0.0 if not meter.allowance else min(meter.used / meter.allowance, 1.0)
    colour = FULL if share >= 1 else WARN if share >= 0.8 else FILL
    filled = round(WIDTH * share, 1)
    title_id = f"meter-{escape(meter.key)}"
    return Markup(
        f'<svg class="meter" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" height="{HEIGHT}" '
        f'role="img" aria-labelledby="{title_id}" preserveAspectRatio="none">'
        f'<title id="{title_id}">{escape(meter.label)}</title>'
        f'<rect x="0" y="{(HEIGHT - BAR) / 2}" width="{WIDTH}" height="{BAR}" rx="7" '
        f'fill="{TRACK}"/>'
        f'<rect x="0" y="{(HEIGHT - BAR) / 2}" width="{filled}" height="{BAR}" rx="7" '
        f'fill="{colour}"/></svg>'
    )
