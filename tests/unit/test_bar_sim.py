"""bar_sim's abuse resistance with the in-memory billing client: locks, the daily cap, notices,
time zones and plural forms, and strangers learning nothing about who is a customer."""

from __future__ import annotations

from datetime import datetime, timedelta

from billing_client import Account
from bot.flow import FlowState, TurnContext
from bot.links import LinkSigner
from bot.settings import Settings
from bot.types import InboundMessage, OutboundMessage
from intents.bar_sim import local_moment, number_zone
from intents.registry import default_registry
from tests.fakes import NOW, FakeBillingClient, parse

SETTINGS = Settings(demo=True, secret_key="unit-test-secret-key-0123")
REGISTRY = default_registry()
SAM_LINE, JORDAN_LINE, MARIA_LINE = "+12025550102", "+12025550103", "+12025550104"
UNKNOWN = "+12025550199"


class Chat:
    """One requester (channel + sender) talking to bar_sim the way the engine would."""

    def __init__(
        self,
        billing: FakeBillingClient,
        account: Account | None = None,
        *,
        channel: str = "web",
        sender: str = "s1",
    ) -> None:
        self.billing, self.account = billing, account
        self.channel, self.sender = channel, sender
        self.state = FlowState()
        self.outgoing: list[OutboundMessage] = []
        self.now = NOW

    async def say(self, text: str, intent: str = "out_of_scope") -> str:
        ctx = TurnContext(
            message=InboundMessage(self.channel, self.sender, text, "x", self.now),
            text=text,
            parse=parse(text, intent),
            account=self.account,
            state=self.state,
            billing=self.billing,
            links=LinkSigner(SETTINGS.secret_key, SETTINGS.public_url),
            registry=REGISTRY,
            settings=SETTINGS,
            now=self.now,
        )
        handler = REGISTRY.get(self.state.flow if self.state.active else intent)
        replies = await (handler.resume(ctx) if self.state.active else handler.start(ctx))
        self.outgoing += ctx.outgoing
        return "\n".join(reply.text for reply in replies)

    async def try_pins(self, number: str, *pins: str) -> list[str]:
        """Start the flow, name `number`, send each PIN; every reply, in order."""
        replies = [await self.say("lost my phone", "bar_sim"), await self.say(number)]
        for pin in pins:
            replies.append(await self.say(pin))
        return replies


def _sam(billing: FakeBillingClient, **kw: str) -> Chat:
    return Chat(billing, billing.accounts[1], **kw)


async def test_a_strangers_five_wrong_pins_do_not_stop_the_owner_barring() -> None:
    billing = FakeBillingClient()
    stranger = Chat(billing, sender="stranger")
    replies = await stranger.try_pins(JORDAN_LINE, *["0000"] * 5)
    assert "Too many wrong PINs" in replies[-1]

    owner = _sam(billing, channel="sms", sender=SAM_LINE)
    await owner.say("block my sim", "bar_sim")
    await owner.say("line:11")
    assert "Block the SIM for +1 202-555-0103" in await owner.say("1357")
    assert "B-000001" in await owner.say("yes")
    assert billing.lines[11].status == "barred"


async def test_the_locked_stranger_is_refused_even_with_the_right_pin() -> None:
    billing = FakeBillingClient()
    stranger = Chat(billing, sender="stranger")
    await stranger.try_pins(JORDAN_LINE, *["0000"] * 5)
    again = await stranger.try_pins(JORDAN_LINE, "1357")
    assert "Too many wrong PINs" in again[-1]
    assert billing.lines[11].status == "active"


async def test_known_and_unknown_numbers_get_the_same_replies_but_the_number() -> None:
    async def conversation(number: str) -> list[str]:
        stranger = Chat(FakeBillingClient(), sender="stranger")
        replies = await stranger.try_pins(number, "12ab", *["0000"] * 5)
        replies += await stranger.try_pins(number, "1357")  # locked: the right PIN is refused
        return [
            text.replace(number[2:5] + "-" + number[5:8] + "-" + number[8:], "<n>")
            for text in replies
        ]

    known, unknown = await conversation(JORDAN_LINE), await conversation(UNKNOWN)
    assert known == unknown
    assert "PIN for +1 <n>" in known[1]


async def test_a_strangers_lock_names_the_time_in_the_numbers_zone() -> None:
    replies = await Chat(FakeBillingClient()).try_pins(JORDAN_LINE, *["0000"] * 5)
    # NOW is 15:00 UTC: 10:00 in New York, where +1 202 numbers are; the lock lasts 30 minutes.
    assert "from here until 10:30 AM (America/New_York)" in replies[-1]


async def test_a_customers_lock_names_the_time_in_their_accounts_zone() -> None:
    billing = FakeBillingClient()
    owner = _sam(billing)
    await owner.say("block my sim", "bar_sim")
    await owner.say("line:10")
    for _ in range(4):
        await owner.say("0000")
    assert "until 9:30 AM (America/Chicago)" in await owner.say("0000")


async def test_wrong_pins_count_down_with_plural_forms() -> None:
    replies = await Chat(FakeBillingClient()).try_pins(UNKNOWN, *["0000"] * 4)
    assert "You have 4 attempts left." in replies[2]
    assert "You have 1 attempt left." in replies[5]


async def test_wrong_pins_count_down_in_spanish_for_a_spanish_customer() -> None:
    billing = FakeBillingClient()
    maria = Chat(billing, billing.accounts[2])
    assert "PIN" in await maria.say("bloquear mi sim", "bar_sim")
    assert "Te quedan 4 intentos." in await maria.say("0000")
    for _ in range(2):
        await maria.say("0000")
    assert "Te queda 1 intento." in await maria.say("0000")
    locked = await maria.say("0000")
    # 15:00 UTC is 16:00 in Madrid; Spanish uses the 24-hour clock.
    assert "hasta 16:30 (Europe/Madrid)" in locked


async def test_a_lock_emails_the_holder_once_per_lock_with_the_requester_masked() -> None:
    billing = FakeBillingClient()
    stranger = Chat(billing, channel="sms", sender=UNKNOWN)
    await stranger.try_pins(JORDAN_LINE, *["0000"] * 5)
    await stranger.try_pins(JORDAN_LINE, "1357")  # refused while locked: the same lock

    notices = [m for m in stranger.outgoing if m.kind == "pin_locked"]
    assert {m.dedupe_key for m in notices} == {notices[0].dedupe_key}
    notice = notices[0]
    assert (notice.channel, notice.address, notice.account_id) == ("email", "sam@example.com", 1)
    text = notice.replies[0].text
    assert "+1202•••0199" in text
    assert UNKNOWN not in text
    assert "0000" not in text and "1357" not in text
    assert "until 9:30 AM (America/Chicago)" in text  # the holder's own zone


async def test_the_next_lock_gets_its_own_notice() -> None:
    billing = FakeBillingClient()
    stranger = Chat(billing, sender="stranger")
    await stranger.try_pins(JORDAN_LINE, *["0000"] * 5)
    stranger.now = NOW + timedelta(minutes=31)
    await stranger.try_pins(JORDAN_LINE, *["0000"] * 5)
    keys = {m.dedupe_key for m in stranger.outgoing if m.kind == "pin_locked"}
    assert len(keys) == 2


async def test_an_unknown_number_locks_without_telling_anyone() -> None:
    stranger = Chat(FakeBillingClient(), sender="stranger")
    replies = await stranger.try_pins(UNKNOWN, *["0000"] * 5)
    assert "Too many wrong PINs" in replies[-1]
    assert stranger.outgoing == []


async def test_the_daily_cap_pauses_checks_opens_one_ticket_and_notifies() -> None:
    billing = FakeBillingClient()
    replies: list[str] = []
    for n in range(3):
        replies += await Chat(billing, sender=f"r{n}").try_pins(JORDAN_LINE, *["0000"] * 5)
    assert "a person from our support team will follow up" in replies[-1]
    tickets = [t for key, t in billing.tickets.items() if key.startswith("pin_paused:1:")]
    assert len(tickets) == 1

    owner = _sam(billing)
    await owner.say("block my sim", "bar_sim")
    await owner.say("line:10")
    assert "PIN checks for +1 202-555-0102 are paused" in await owner.say("1357")
    assert len(billing.tickets) == 1
    assert billing.lines[10].status == "active"

    notices = [m for m in owner.outgoing if m.kind == "pin_paused"]
    assert notices and tickets[0].reference in notices[0].replies[0].text


async def test_a_verified_stranger_continues_in_the_accounts_language() -> None:
    stranger = Chat(FakeBillingClient())
    replies = await stranger.try_pins(MARIA_LINE, "9753")
    assert "¿Bloqueamos ahora la SIM de +1 202-555-0104 (María García)?" in replies[-1]
    assert "SIM de +1 202-555-0104 está bloqueada" in await stranger.say("yes")  # the "Sí" option


async def test_a_verified_stranger_is_told_an_already_blocked_line_is_blocked() -> None:
    billing = FakeBillingClient()
    first = Chat(billing, sender="a")
    await first.try_pins(JORDAN_LINE, "1357")
    assert "B-000001" in await first.say("yes")
    replies = await Chat(billing, sender="b").try_pins(JORDAN_LINE, "1357")
    assert "already blocked (reference B-000001)" in replies[-1]


def test_a_numbers_zone_comes_from_its_area_or_is_utc() -> None:
    assert number_zone("+12025550101") == "America/New_York"
    assert number_zone("+13125550100") == "America/Chicago"
    assert number_zone("+447700900123") == "UTC"  # UK mobiles have no single zone here


def test_a_moment_on_another_day_there_shows_the_date() -> None:
    late = datetime.fromisoformat("2026-11-22T05:30:00+00:00")
    assert local_moment(late, "America/Chicago", "en_US", now=NOW) == "11:30 PM (America/Chicago)"
    text = local_moment(late, "Europe/Madrid", "en_US", now=NOW)
    assert text == "November 22, 2026 6:30 AM (Europe/Madrid)"
