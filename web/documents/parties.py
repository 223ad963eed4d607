"""Who the document is from and to: the operator's block on the left, the customer's right."""

from __future__ import annotations

import logging
from pathlib import Path

from fpdf import FPDF

from billing_client.types import Account
from bot.i18n import Messages
from bot.operator import OperatorConfig
from web.documents import texts
from web.documents.canvas import MARGIN, block, style
from web.documents.formats import Formats

log = logging.getLogger(__name__)
LOGO_HEIGHT = 14.0
GAP = 10.0


def draw_parties(
    pdf: FPDF, operator: OperatorConfig, account: Account, fmt: Formats, *, buyer: Messages
) -> None:
    """Logo, seller and buyer (headed `buyer`: "Bill to", "Received from"); leaves the
    cursor under the taller of the two blocks."""
    top = _logo(pdf, operator.logo)
    half = (pdf.epw - GAP) / 2
    left_end = block(pdf, seller_lines(operator, fmt), x=MARGIN, y=top, width=half)
    right_x = MARGIN + half + GAP
    style(pdf, size=8, muted=True)
    pdf.set_xy(right_x, top)
    pdf.cell(half, 4, fmt.say(buyer))
    right_end = block(pdf, buyer_lines(account, fmt), x=right_x, y=top + 4, width=half)
    pdf.set_y(max(left_end, right_end) + 8)


def seller_lines(operator: OperatorConfig, fmt: Formats) -> list[str]:
    """Legal name, address, tax id and the support contacts: what Art. 226 VAT asks of the
    supplier, and where a customer with a question turns."""
    lines = [operator.legal_name, *operator.address]
    if operator.tax_id:
        lines.append(fmt.say(texts.TAX_ID, tax_id=operator.tax_id))
    contacts = [part for part in (operator.support.phone, operator.support.email) if part]
    if contacts:
        lines.append(" · ".join(contacts))
    return lines


def buyer_lines(account: Account, fmt: Formats) -> list[str]:
    return [account.name, account.email, fmt.say(texts.ACCOUNT, id=account.id)]


def _logo(pdf: FPDF, path: Path | None) -> float:
    """Draw the logo (PNG or SVG) at the top left; the y where the blocks start."""
    if path is None:
        return pdf.get_y()
    try:
        pdf.image(str(path), x=MARGIN, y=MARGIN, h=LOGO_HEIGHT)
    except (OSError, ValueError, NotImplementedError) as error:
        # fpdf2 renders only part of SVG; a logo it cannot draw must not cost the invoice.
        log.warning("documents: logo %s not drawn: %s", path, error)
        return pdf.get_y()
    return MARGIN + LOGO_HEIGHT + 6
