"""Amounts, dates and words the way the account holder reads them (babel, CLDR)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, get_datetime_format
from babel.numbers import format_decimal

from billing_client.types import Account, Money
from bot.i18n import Messages, say


@dataclass(frozen=True, slots=True)
class Formats:
    """One account's locale and time zone, applied to everything a document prints."""

    locale: str
    timezone: str = "UTC"

    @classmethod
    def of(cls, account: Account) -> Formats:
        return cls(locale=account.locale, timezone=account.timezone)

    @property
    def language_tag(self) -> str:
        """BCP 47 ("es-ES") for the PDF's /Lang, which screen readers use to pick a voice."""
        return self.locale.replace("_", "-")

    def say(self, messages: Messages, **values: Any) -> str:
        return say(messages, self.locale, **values)

    def template(self, messages: Messages, *names: str) -> str:
        """The message in this language with `names` kept as {placeholders}, to fill later
        (the page number is known only when the page is drawn)."""
        return self.say(messages, **{name: "{" + name + "}" for name in names})

    def money(self, amount: Money) -> str:
        return amount.format(self.locale)

    def day(self, day: date) -> str:
        return format_date(day, "medium", locale=self.locale)

    def moment(self, moment: datetime) -> str:
        """Date and time (to the minute) on the account holder's clock, not the server's."""
        local = as_utc(moment).astimezone(ZoneInfo(self.timezone))
        pattern = str(get_datetime_format("medium", locale=self.locale))  # "{1}, {0}"
        clock = format_time(local, "short", locale=self.locale)
        return pattern.replace("{1}", self.day(local.date())).replace("{0}", clock)

    def number(self, value: Decimal) -> str:
        return format_decimal(value, locale=self.locale)

    def rate(self, rate: Decimal) -> str:
        """A tax rate as a percentage number, 0.0825 → "8.25" ("8,25" in Spanish)."""
        return format_decimal(rate * 100, format="#,##0.##", locale=self.locale)


def as_utc(moment: datetime) -> datetime:
    """Aware UTC; SQLite hands back naive datetimes and billbot stores UTC everywhere."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def method_name(provider: str) -> str:
    """ "stripe" → "Stripe": provider ids are lower-case identifiers, not names."""
    return provider.replace("_", " ").strip().title()
