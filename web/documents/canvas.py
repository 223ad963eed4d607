"""The page every document is printed on, and the few drawing moves the documents share.

A4 in millimetres, DejaVu Sans (fpdf2's core fonts are latin-1 only: no "€", "₹" or "•"),
the operator's legal footer and "Page n of N" on every page.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos
from fpdf.fonts import FontFace, TTFFont

FONT = "DejaVu"
FONT_DIR = Path(__file__).with_name("fonts")
MARGIN = 18.0
FOOTER_ZONE = 26.0  # kept free at the bottom of each page for the footer
LINE = 5.0
INK = (33, 37, 41)
MUTED = (90, 95, 100)  # 6.5:1 on white: small print stays readable
LINK = (11, 92, 173)
RULE = (200, 204, 208)


@dataclass(frozen=True, slots=True)
class PageSetup:
    """What every page shows besides its content, and the PDF's metadata."""

    title: str
    author: str
    created: datetime  # pinned, so the same document always gives the same bytes
    language: str  # BCP 47
    footer: str  # the operator's legal footer; may be empty
    page_label: str  # "Page {page} of {pages}" in the document's language


@dataclass(frozen=True, slots=True)
class Row:
    """A label and its value in a block of facts or amounts."""

    label: str
    value: str
    strong: bool = False


class DocumentPdf(FPDF):
    """An A4 document in DejaVu Sans, with the legal footer and page numbers drawn per page."""

    def __init__(self, setup: PageSetup) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self._setup = setup
        self.add_font(FONT, "", FONT_DIR / "DejaVuSans.ttf")
        self.add_font(FONT, "B", FONT_DIR / "DejaVuSans-Bold.ttf")
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=FOOTER_ZONE)
        self.alias_nb_pages()  # "{nb}" becomes the page count when the PDF is written
        self.set_title(setup.title)
        self.set_author(setup.author)
        self.set_creator("billbot")
        self.set_lang(setup.language)
        self.set_creation_date(setup.created)
        self.add_page()

    def footer(self) -> None:
        """The legal footer, then "Page n of N", centred under the content."""
        self.set_y(-FOOTER_ZONE + 6)
        style(self, size=7, muted=True)
        if self._setup.footer:
            self.multi_cell(
                0, 3.5, self._setup.footer, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
        label = self._setup.page_label.format(page=self.page_no(), pages="{nb}")
        self.cell(0, 5, label, align=Align.C)


@contextmanager
def open_document(setup: PageSetup) -> Iterator[DocumentPdf]:
    """A new document; its font files are closed when the block ends, however it ends."""
    pdf = DocumentPdf(setup)
    try:
        yield pdf
    finally:
        _close_fonts(pdf)


def _close_fonts(pdf: FPDF) -> None:
    # fontTools reads the TTF files lazily and keeps them open; fpdf2 never closes them, so
    # without this every document would hold two file handles until garbage collection.
    for font in pdf.fonts.values():
        if isinstance(font, TTFFont):
            font.ttfont.close()


def to_bytes(pdf: FPDF) -> bytes:
    return bytes(pdf.output())


def style(pdf: FPDF, *, size: float = 9, bold: bool = False, muted: bool = False) -> None:
    pdf.set_font(FONT, "B" if bold else "", size)
    pdf.set_text_color(*(MUTED if muted else INK))


def title(pdf: FPDF, text: str) -> None:
    style(pdf, size=18, bold=True)
    pdf.multi_cell(0, 9, text, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)


def section(pdf: FPDF, text: str) -> None:
    """A section heading, moved to the next page rather than left alone at the bottom."""
    if pdf.will_page_break(4 * LINE):
        pdf.add_page()
    pdf.ln(4)
    style(pdf, size=11, bold=True)
    pdf.cell(0, 7, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def paragraph(pdf: FPDF, text: str, *, x: float | None = None, width: float = 0) -> None:
    style(pdf)
    pdf.set_x(pdf.l_margin if x is None else x)
    pdf.multi_cell(width, LINE, text, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def link(pdf: FPDF, label: str, url: str) -> None:
    """`label` then the URL, clickable; the URL wraps if it is long."""
    style(pdf)
    pdf.cell(pdf.get_string_width(label + " "), LINE, label + " ")
    pdf.set_text_color(*LINK)
    pdf.multi_cell(0, LINE, url, align=Align.L, link=url, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def block(pdf: FPDF, lines: Sequence[str], *, x: float, y: float, width: float) -> float:
    """Lines from (x, y), the first in bold (a name heads the block); returns the y below."""
    pdf.set_y(y)
    for index, line in enumerate(lines):
        style(pdf, bold=index == 0, muted=False)
        pdf.set_x(x)
        pdf.multi_cell(width, LINE, line, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return pdf.get_y()


def rows(
    pdf: FPDF,
    items: Sequence[Row],
    *,
    x: float,
    label_width: float,
    width: float,
    numbers: bool = False,
) -> None:
    """Label and value pairs: dates, bank details, or (`numbers`: right-aligned) totals."""
    for item in items:
        pdf.set_x(x)
        style(pdf, bold=item.strong, muted=not item.strong)
        pdf.cell(label_width, LINE + 0.5, item.label)
        style(pdf, bold=item.strong)
        align = Align.R if numbers else Align.L
        pdf.cell(width - label_width, LINE + 0.5, item.value, align=align)
        pdf.ln(LINE + 0.5)


def table(
    pdf: FPDF,
    headings: Sequence[str],
    body: Sequence[Sequence[str]],
    *,
    widths: Sequence[float],
    right: int,
) -> None:
    """A ruled table; headings repeat on every page it spills onto. The last `right` columns
    (quantities, amounts) are right-aligned."""
    aligns = tuple(["LEFT"] * (len(widths) - right) + ["RIGHT"] * right)
    style(pdf)
    pdf.set_draw_color(*RULE)
    heading_style = FontFace(family=FONT, emphasis="BOLD", fill_color=(240, 242, 244))
    with pdf.table(
        col_widths=tuple(widths),
        width=sum(widths),
        text_align=aligns,
        headings_style=heading_style,
        borders_layout="HORIZONTAL_LINES",
        line_height=LINE - 0.4,
        padding=(0.9, 1.5),
        align=Align.L,
    ) as grid:
        for cells in (headings, *body):
            grid.row(tuple(cells))


def image(pdf: FPDF, data: bytes, *, x: float, y: float, size: float) -> None:
    pdf.image(io.BytesIO(data), x=x, y=y, w=size, h=size)
