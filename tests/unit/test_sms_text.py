"""SMS text: GSM-7 spelling, the segment counter and how replies become SMS bodies."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.types import Option, Reply
from channels.sms_text import (
    MAX_SEGMENTS,
    encoding,
    fits_sms,
    render_sms,
    segments,
    split,
    to_gsm,
)

PROPERTY = settings(max_examples=200, derandomize=True, database=None, deadline=None)
PAY_URL = "https://bill.example.com/pay/abc123"

# --- the segment counter (channels.md §8 case 16) ---------------------------------------------

SEGMENT_TABLE = [
    ("a" * 160, "GSM-7", 1),
    ("a" * 161, "GSM-7", 2),
    ("a" * 306, "GSM-7", 2),
    ("a" * 307, "GSM-7", 3),
    ("’" + "a" * 69, "UCS-2", 1),
    ("’" + "a" * 70, "UCS-2", 2),
    ("á" * 134, "UCS-2", 2),
    ("á" * 135, "UCS-2", 3),
    ("€" * 80, "GSM-7", 1),  # the extension table costs two septets
    ("€" * 81, "GSM-7", 2),
    ("a" * 159 + "€", "GSM-7", 2),
    ("Total €25" + "a" * 150, "GSM-7", 1),
    ("Total €25" + "a" * 151, "GSM-7", 2),
    ("^{}\\[~]|" + "a" * 144, "GSM-7", 1),
    ("^{}\\[~]|" + "a" * 145, "GSM-7", 2),
    ("a" * 152 + "€" + "a" * 152, "GSM-7", 3),  # an escape pair is never split across parts
    ("😀" * 35, "UCS-2", 1),  # outside the BMP: two UTF-16 units each
    ("😀" * 36, "UCS-2", 2),
    ("¡Hola! Añadido: 5€ ¿Sí?", "UCS-2", 1),  # í is not GSM-7
    ("¡Hola! Añadido: 5€ ¿ok?", "GSM-7", 1),  # ¡ ñ € ¿ are
    ("", "GSM-7", 1),
]


@pytest.mark.parametrize(("text", "expected_encoding", "expected_segments"), SEGMENT_TABLE)
def test_segments_follow_gsm7_and_ucs2_sizes(
    text: str, expected_encoding: str, expected_segments: int
) -> None:
    assert encoding(text) == expected_encoding
    assert segments(text) == expected_segments


# --- GSM-7 spelling ---------------------------------------------------------------------------

GSM_TABLE = [
    ("It’s ‘fine’", "It's 'fine'"),
    ("“Paid”", '"Paid"'),
    ("Due 1–5 May — pay now", "Due 1-5 May - pay now"),
    ("Wait…", "Wait..."),
    ("$64.20\u00a0due", "$64.20 due"),  # NBSP
    ("12\u202fGB", "12 GB"),  # narrow NBSP
    ("• 41.5 GB used", "- 41.5 GB used"),
    ("Thanks! 🙏", "Thanks!"),
    ("Great 👍🏽 job", "Great job"),  # a skin-tone modifier goes with its emoji
    ("Family 👨‍👩‍👧 plan", "Family plan"),  # joined emoji
    ("Roaming 🇪🇸 on", "Roaming on"),  # a flag
    ("Press 1️⃣ now", "Press 1 now"),  # keycap: the digit stays
    ("Done ✅", "Done"),
    ("Plan “Family 2×20”", 'Plan "Family 2x20"'),
    ("a\tb", "a b"),
    ("line one\r\nline two", "line one\nline two"),
    ("zero\u200bwidth", "zerowidth"),
    ("Total €25 [ref]", "Total €25 [ref]"),  # extension-table characters are GSM-7
    ("María García", "María García"),  # letters stay, even outside GSM-7
    ("¿Qué tal? Añadido", "¿Qué tal? Añadido"),
]


@pytest.mark.parametrize(("text", "expected"), GSM_TABLE)
def test_typographic_characters_get_their_gsm7_spelling(text: str, expected: str) -> None:
    assert to_gsm(text) == expected


def test_a_decomposed_accent_is_composed_first() -> None:
    assert to_gsm("Pe\u0301rez") == "Pérez"


def test_spanish_letters_outside_gsm7_keep_a_spanish_text_ucs2() -> None:
    assert encoding(to_gsm("Tu saldo está al día.")) == "UCS-2"
    assert encoding(to_gsm("¿Añadir 5€? Sí")) == "UCS-2"
    assert encoding(to_gsm("¿Añadir 5€? Vale")) == "GSM-7"


ENGLISH = st.lists(
    st.sampled_from(
        list("abcXYZ 0123456789.,;:!?$%&()/-+=@#'\"\n")
        + list("‘’“”–—…•\u00a0\u2009\u202f\t×")
        + ["🙏", "👍🏽", "🇺🇸", "✅", "\u200d", "\ufe0f", "1️⃣", "€", "[", "]"]
    ),
    max_size=400,
).map("".join)


@PROPERTY
@given(ENGLISH)
def test_an_english_text_always_ends_up_gsm7(text: str) -> None:
    assert encoding(to_gsm(text)) == "GSM-7"


# --- one reply as SMS text --------------------------------------------------------------------

BALANCE = Reply(
    "You owe $64.20, due Mar 24, 2025.",
    options=(Option("Pay now", "intent:pay_bill"), Option("Menu", "intent:menu")),
)
PAY_LINK = Reply(
    f"Invoice INV-1: $64.20 due Mar 24. Pay securely here: {PAY_URL}\n"
    "The link works until Mar 15, 3:30 PM.",
    link=PAY_URL,
    link_label="Pay $64.20",
    image_url=f"{PAY_URL}/qr.png",
)
THREE_OPTIONS = Reply(
    "Which line?",
    options=(
        Option("+1 202-555-0102 — Sam", "line:2"),
        Option("+1 202-555-0103 — Jordan", "line:3"),
        Option("Neither", "none"),
    ),
)

RENDER_TABLE = [
    (
        "a balance with options",
        [BALANCE],
        ["You owe $64.20, due Mar 24, 2025.\n1. Pay now\n2. Menu"],
    ),
    (
        "a pay link already in the text, with a QR image",
        [PAY_LINK],
        [
            f"Invoice INV-1: $64.20 due Mar 24. Pay securely here: {PAY_URL}\n"
            "The link works until Mar 15, 3:30 PM."
        ],
    ),
    (
        "a three-option list",
        [THREE_OPTIONS],
        [
            "Which line?\n1. +1 202-555-0102 - Sam\n2. +1 202-555-0103 - Jordan\n3. Neither",
        ],
    ),
    (
        "a link with a short label",
        [Reply("Your bill is ready.", link=PAY_URL, link_label="Pay $64.20")],
        [f"Your bill is ready.\nPay $64.20: {PAY_URL}"],
    ),
    (
        "a link with a long label",
        [
            Reply(
                "Your bill is ready.", link=PAY_URL, link_label="Open your invoice in the browser"
            )
        ],
        [f"Your bill is ready.\n{PAY_URL}"],
    ),
    (
        "a document without a link",
        [Reply("Here it is.", document_url=f"{PAY_URL}.pdf", document_name="INV-1.pdf")],
        [f"Here it is.\nINV-1.pdf: {PAY_URL}.pdf"],
    ),
    (
        "an image without a link",
        [Reply("Scan to pay.", image_url=f"{PAY_URL}/qr.png")],
        [f"Scan to pay.\n{PAY_URL}/qr.png"],
    ),
    (
        "a link wins over the image and the document",
        [
            Reply(
                "Ready.",
                link=PAY_URL,
                image_url=f"{PAY_URL}/qr.png",
                document_url=f"{PAY_URL}.pdf",
            )
        ],
        [f"Ready.\n{PAY_URL}"],
    ),
    (
        "two replies share one body",
        [Reply("Your line is barred."), BALANCE],
        [
            "Your line is barred.\n\nYou owe $64.20, due Mar 24, 2025.\n1. Pay now\n2. Menu",
        ],
    ),
    (
        "typography in labels too",
        [Reply("Pick one…", options=(Option("Yes — bar it", "yes"), Option("No 🙅", "no")))],
        ["Pick one...\n1. Yes - bar it\n2. No"],
    ),
    ("an empty reply sends nothing", [Reply("   ")], []),
    (
        "contact requests show the text alone",
        [Reply("Share it", request_contact=True)],
        ["Share it"],
    ),
]


@pytest.mark.parametrize(
    ("replies", "expected"),
    [case[1:] for case in RENDER_TABLE],
    ids=[case[0] for case in RENDER_TABLE],
)
def test_replies_render_as_sms_bodies(replies: list[Reply], expected: list[str]) -> None:
    assert render_sms(replies) == expected


def test_option_values_never_reach_the_customer() -> None:
    (body,) = render_sms([BALANCE, THREE_OPTIONS])
    assert "intent:" not in body
    assert "line:" not in body


def test_options_are_numbered_in_the_order_given_per_reply() -> None:
    (body,) = render_sms([THREE_OPTIONS, BALANCE])
    assert body.splitlines()[1:4] == [
        "1. +1 202-555-0102 - Sam",
        "2. +1 202-555-0103 - Jordan",
        "3. Neither",
    ]
    assert "1. Pay now\n2. Menu" in body


def test_every_bill_shape_fits_two_segments() -> None:
    for replies in ([BALANCE], [PAY_LINK], [THREE_OPTIONS]):
        (body,) = render_sms(replies)
        assert segments(body) <= 2


# --- splitting long answers -------------------------------------------------------------------


def sentence(n: int, length: int) -> str:
    words = f"Reply {n} says something useful about your bill".split()
    text = " ".join(words)
    while len(text) < length:
        text += " " + words[len(text) % len(words)]
    return text[:length].rstrip()


def test_an_answer_over_three_segments_is_split_at_reply_boundaries() -> None:
    replies = [Reply(sentence(n, 200)) for n in range(3)]
    bodies = render_sms(replies)
    assert bodies == [f"{replies[0].text}\n\n{replies[1].text}", replies[2].text]
    assert all(segments(body) <= MAX_SEGMENTS for body in bodies)


def test_a_long_reply_is_split_at_paragraphs_then_words() -> None:
    paragraphs = [sentence(n, 300) for n in range(3)]
    bodies = render_sms([Reply("\n\n".join(paragraphs))])
    assert bodies == paragraphs
    (words,) = [sentence(9, 1000)]
    long_bodies = render_sms([Reply(words)])
    assert len(long_bodies) == 3
    assert " ".join(long_bodies) == words
    assert all(fits_sms(body) for body in long_bodies)


def test_a_spanish_answer_splits_on_the_ucs2_budget() -> None:
    text = " ".join(["Tu factura está lista y vence el día 24."] * 10)
    bodies = render_sms([Reply(text)])
    assert all(encoding(body) == "UCS-2" and segments(body) <= MAX_SEGMENTS for body in bodies)
    assert " ".join(bodies) == text


def test_a_word_longer_than_the_budget_is_cut() -> None:
    url = "https://example.com/" + "x" * 1000
    bodies = render_sms([Reply(url)])
    assert "".join(bodies) == url
    assert all(fits_sms(body) for body in bodies)


def test_split_keeps_a_text_that_fits_whole() -> None:
    assert split("short\n\ntext", lambda text: len(text) <= 20) == ["short\n\ntext"]


REPLY_TEXTS = st.lists(
    st.lists(
        st.sampled_from([*"ab cá€\n—…🙂", "word ", "\n\n"]),
        max_size=300,
    ).map("".join),
    max_size=5,
)


@PROPERTY
@given(REPLY_TEXTS)
def test_every_body_fits_three_segments_and_keeps_the_words(texts: list[str]) -> None:
    bodies = render_sms([Reply(text) for text in texts])
    assert all(body and segments(body) <= MAX_SEGMENTS for body in bodies)
    words = [word for text in texts for word in to_gsm(text).split()]
    assert "".join("".join(body.split()) for body in bodies) == "".join(words)
