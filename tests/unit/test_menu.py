"""The menu a page at a time: at most nine numbered options, "More…" to the next page, every
intent reachable, numbers, taps and words all working on any page (bot/menu.py)."""

from __future__ import annotations

import pytest

from bot.menu import PAGE_SIZE, asked_page
from bot.operator import Features, OperatorConfig
from bot.registry import Registry
from bot.routing import Router
from intents.balance import BalanceIntent
from intents.out_of_scope import OutOfScopeIntent
from intents.pay_bill import PayBillIntent
from intents.registry import default_registry
from tests.fakes import FakeBillingClient
from tests.support_fakes import MARIA_ID, SAM_ID, Talk

SAM = FakeBillingClient().accounts[SAM_ID]
MARIA = FakeBillingClient().accounts[MARIA_ID]
LISTED = [  # what a postpaid customer (Sam) is offered: a top-up is for prepaid accounts
    f"intent:{name}"
    for name, _ in default_registry().menu_entries
    if default_registry().billing_types_of(name) in (None, frozenset({"postpaid"}))
]


@pytest.fixture
def sam() -> Talk:
    return Talk(SAM)


async def _every_page(talk: Talk) -> list[list[str]]:
    pages = [[o.value for o in (await talk.say("menu")).options]]
    while pages[-1][-1] != "menu:1":
        pages.append([o.value for o in (await talk.say(str(len(pages[-1])))).options])
    return pages


def test_there_is_more_on_the_menu_than_one_page_holds() -> None:
    assert len(LISTED) > PAGE_SIZE + 1  # otherwise these tests test nothing


async def test_the_first_page_has_eight_entries_and_more(sam: Talk) -> None:
    reply = await sam.say("menu")

    assert [o.value for o in reply.options] == [*LISTED[:PAGE_SIZE], "menu:2"]
    assert reply.options[-1].label == "More…"


async def test_every_listed_intent_is_on_exactly_one_page_of_at_most_nine(sam: Talk) -> None:
    pages = await _every_page(sam)

    assert all(len(page) <= PAGE_SIZE + 1 for page in pages)
    entries = [value for page in pages for value in page if value.startswith("intent:")]
    assert entries == LISTED


async def test_nine_a_tap_or_more_typed_all_show_the_second_page(sam: Talk) -> None:
    await sam.say("menu")
    by_number = (await sam.say("9")).options
    await sam.say("menu")
    by_tap = (await sam.say("menu:2")).options
    await sam.say("menu")
    typed = await sam.say("more")

    assert by_number == by_tap == typed.options
    assert typed.text.startswith("More things I can do (page 2 of")
    assert by_number[0].value == LISTED[PAGE_SIZE]


async def test_a_number_on_the_second_page_picks_from_that_page(sam: Talk) -> None:
    await sam.say("menu")
    page = await sam.say("9")

    await sam.say("1")

    assert sam.intent == page.options[0].value.removeprefix("intent:")


async def test_the_last_page_goes_back_to_the_start(sam: Talk) -> None:
    pages = await _every_page(sam)

    back = await sam.say(str(len(pages[-1])))

    assert [o.value for o in back.options] == pages[0]


async def test_words_still_work_while_a_later_page_is_showing(sam: Talk) -> None:
    await sam.say("menu")
    await sam.say("9")

    reply = await sam.say("what do I owe", "balance")

    assert "$118.45" in reply.text


async def test_a_page_past_the_end_shows_the_last_one(sam: Talk) -> None:
    pages = await _every_page(sam)

    reply = await sam.say("menu:42")

    assert [o.value for o in reply.options] == pages[-1]


async def test_more_typed_with_no_menu_showing_is_not_a_menu_page(sam: Talk) -> None:
    await sam.say("what do I owe", "balance")

    await sam.say("more", "out_of_scope")

    assert sam.intent == "out_of_scope"


async def test_the_spanish_customer_pages_in_spanish() -> None:
    maria = Talk(MARIA)

    first = await maria.say("menú")
    second = await maria.say("más")

    assert first.options[-1].label == "Más…"
    assert second.text.startswith("Más cosas que puedo hacer (página 2 de")


async def test_a_short_menu_is_one_page_without_more() -> None:
    small = Router(Registry([BalanceIntent(), PayBillIntent(), OutOfScopeIntent()]))

    reply = await Talk(SAM, router=small).say("menu")

    assert [o.value for o in reply.options] == ["intent:balance", "intent:pay_bill"]


async def test_what_the_operator_switched_off_is_on_no_page() -> None:
    off = Features(usage=False, invoices=False)
    talk = Talk(SAM, operator=OperatorConfig(features=off))

    pages = await _every_page(talk)

    values = {value for page in pages for value in page}
    assert not {"intent:usage", "intent:invoice", "intent:bill_explain"} & values
    assert "intent:balance" in values


@pytest.mark.parametrize(
    ("text", "offered", "page"),
    [
        ("menu:3", [], 3),
        ("menu:x", [], 1),
        ("More", ["intent:balance", "menu:2"], 2),
        ("más…", ["menu:3"], 3),
        ("more", ["intent:balance", "menu:1"], None),  # the last page: nothing more
        ("more", ["yes", "no"], None),
        ("balance", ["menu:2"], None),
    ],
)
def test_asked_page(text: str, offered: list[str], page: int | None) -> None:
    assert asked_page(text, offered) == page


async def test_the_menu_offers_what_fits_the_kind_of_account() -> None:
    async def listed(talk: Talk) -> set[str]:
        return {value for page in await _every_page(talk) for value in page}

    sam, maria = await listed(Talk(SAM)), await listed(Talk(MARIA))

    assert "intent:top_up" in maria and "intent:top_up" not in sam
    assert "intent:bill_limit" in sam and "intent:bill_limit" not in maria
    assert "intent:bill_explain" in sam and "intent:bill_explain" not in maria
    assert {"intent:balance", "intent:bar_sim", "intent:sim_swap"} <= sam & maria
