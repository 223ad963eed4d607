"""Turn what people really type into plain tokens the classifier can compare.

"HIII can u pleeease tell me wat I owe 🙏" → "hi can you please tell me what i owe".
"""

from __future__ import annotations

import re
import unicodedata

MAX_CHARS = 1000  # a billing request fits easily; the rest of a pasted essay is noise
MAX_TOKENS = 60

_APOSTROPHES = re.compile(r"['’‘`´ʼ]")
_TOKEN = re.compile(r"[a-z0-9]+")
_ELONGATION = re.compile(r"([a-z])\1{2,}")  # "pleeease" → "please"; no English word has 3 in a row
_REPEATS = re.compile(r"([a-z])\1+")
_LETTERS_DIGITS = re.compile(r"[a-z]+|[0-9]+")

# Texting shorthand → the word the training data spells out. Applied per token, after elongations
# are squeezed, so "plsss" and "pls" both become "please".
SHORTHAND: dict[str, str] = {
    "u": "you",
    "ur": "your",
    "yr": "your",
    "r": "are",
    "pls": "please",
    "plz": "please",
    "plis": "please",
    "pleez": "please",
    "wat": "what",
    "wot": "what",
    "wut": "what",
    "whut": "what",
    "wats": "whats",
    "hw": "how",
    "fone": "phone",
    "fon": "phone",
    "ph": "phone",
    "bil": "bill",
    "bal": "balance",
    "txt": "text",
    "msg": "message",
    "acct": "account",
    "acc": "account",
    "acnt": "account",
    "amt": "amount",
    "pmt": "payment",
    "pymt": "payment",
    "inv": "invoice",
    "thx": "thanks",
    "thnx": "thanks",
    "thanx": "thanks",
    "tnx": "thanks",
    "tks": "thanks",
    "ty": "thanks",
    "2day": "today",
    "2moro": "tomorrow",
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "b4": "before",
    "abt": "about",
    "bout": "about",
    "cuz": "because",
    "coz": "because",
    "bc": "because",
    "cn": "can",
    "cud": "could",
    "wud": "would",
    "hv": "have",
    "hav": "have",
    "gimme": "give me",
    "wanna": "want to",
    "gonna": "going to",
    "dat": "that",
    "da": "the",
    "teh": "the",
    "ppl": "people",
    "rn": "right now",
    "okay": "ok",
    "okey": "ok",
    "kk": "ok",
    "simcard": "sim card",
    "q": "que",
    "ke": "que",
    "xq": "porque",
    "pq": "porque",
    "tel": "telefono",
    "cel": "celular",
}


def normalize(text: str) -> str:
    """Lowercase, accent-, emoji- and punctuation-free tokens joined by single spaces."""
    text = _APOSTROPHES.sub("", text[:MAX_CHARS])
    text = strip_accents(unicodedata.normalize("NFKC", text).casefold())
    tokens: list[str] = []
    for raw in _TOKEN.findall(text):
        tokens.extend(_expand(_ELONGATION.sub(r"\1", raw)))
    return " ".join(_squash_numbers(tokens)[:MAX_TOKENS])


def strip_accents(text: str) -> str:
    """ "cuánto" → "cuanto", "teléfono" → "telefono", "señal" → "senal"."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def fold_repeats(text: str) -> str:
    """Collapse doubled letters ("ballance", "bill" → "balance", "bil") to absorb typos."""
    return _REPEATS.sub(r"\1", text)


def _expand(token: str) -> list[str]:
    expanded = SHORTHAND.get(token, token)
    return [part for word in expanded.split() for part in _LETTERS_DIGITS.findall(word)]


def _squash_numbers(tokens: list[str]) -> list[str]:
    """Every number becomes "0", and a run of them one "0": the digits never decide an intent."""
    out: list[str] = []
    for token in tokens:
        word = "0" if token.isdigit() else token
        if not (word == "0" and out and out[-1] == "0"):
            out.append(word)
    return out
