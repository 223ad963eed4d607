"""Where and how step-up shows a moment (a lock's end) to the person reading it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import phonenumbers
from babel.dates import format_date, format_time
from phonenumbers import timezone as phone_zones

from bot.flow import TurnContext


def zone_for(ctx: TurnContext, number: str | None) -> str:
    """Where lock times are shown: the customer's zone, or a stranger's number's area."""
    if ctx.account is not None:
        return ctx.account.timezone
    return number_zone(number) if number else "UTC"


def number_zone(msisdn: str) -> str:
    """The time zone of the number's area ("America/New_York" for +1 202 …), else "UTC".

    A stranger's lock message is shown in this zone, not the account's: telling someone who
    has not proven the PIN where a customer lives would also tell them the number is one.
    """
    zones = phone_zones.time_zones_for_number(phonenumbers.parse(msisdn))
    if len(zones) == 1 and zones[0] != "Etc/Unknown":
        return str(zones[0])
    return "UTC"


def local_moment(moment: datetime, zone: str, locale: str, *, now: datetime) -> str:
    """ "4:05 PM (America/Chicago)", with the date in front when it is not today there."""
    tz = ZoneInfo(zone)
    local = moment.astimezone(tz)
    text = format_time(local, format="short", locale=locale)
    if local.date() != now.astimezone(tz).date():
        text = f"{format_date(local.date(), format='long', locale=locale)} {text}"
    # CLDR puts a narrow no-break space before AM/PM; SMS alphabets have no such character.
    return f"{text.replace(chr(0x202F), ' ')} ({zone})"
