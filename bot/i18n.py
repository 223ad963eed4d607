"""Texts in the customer's language: one module for chat replies, alerts and web pages.

A message is a mapping of language code to template; plural messages map each language to
its CLDR plural forms ("one", "other", and "few"/"many" where the language has them), chosen
with babel's plural rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from babel import Locale

Messages = Mapping[str, str]  # language code -> template
PluralMessages = Mapping[str, Mapping[str, str]]  # language code -> plural form -> template
DEFAULT_LANGUAGE = "en"


def language(locale: str) -> str:
    """ "es_ES" → "es"."""
    return locale.replace("-", "_").split("_")[0] or DEFAULT_LANGUAGE


def say(messages: Messages, locale: str, **values: Any) -> str:
    """The message in the locale's language (English when there is no translation)."""
    template = messages.get(language(locale)) or messages[DEFAULT_LANGUAGE]
    return template.format(**values)


def plural(messages: PluralMessages, locale: str, count: int, **values: Any) -> str:
    """The plural form of the message for `count` ("1 day", "5 days"); `{count}` is filled."""
    lang = language(locale)
    forms = messages.get(lang) or messages[DEFAULT_LANGUAGE]
    form = _plural_form(lang if lang in messages else DEFAULT_LANGUAGE, count)
    template = forms.get(form) or forms["other"]
    return template.format(count=count, **values)


@lru_cache(maxsize=32)
def _locale(lang: str) -> Locale:
    return Locale.parse(lang)


def _plural_form(lang: str, count: int) -> str:
    return str(_locale(lang).plural_form(abs(count)))
