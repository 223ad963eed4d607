"""`bill_explain` and the comparison under it (`intents.bill_diff`): the total difference
first, then each charge that changed in words, the tax, and the offer to have a new monthly
add-on removed (a ticket, after a yes)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from billing_client import BillingUnavailableError, InvoiceItem
from intents.bill_diff import compare
from tests.fakes import FakeBillingClient, usd
from tests.support_fakes import (
    JORDAN_LINE,
    MARIA_ID,
    SAM_ID,
    SupportBilling,
    Talk,
    invoice,
    item,
)

SAM = FakeBillingClient().accounts[SAM_ID]
MARIA = FakeBillingClient().accounts[MARIA_ID]
PLAN = item("Family 2×20 monthly plan", "90.00", "recurring")
OCTOBER, NOVEMBER = date(2026, 10, 1), date(2026, 11, 1)


def bills(
    billing: SupportBilling, earlier: list[InvoiceItem], latest: list[InvoiceItem]
) -> SupportBilling:
    """Sam's October and November bills."""
    billing.details = {1: invoice(1, OCTOBER, earlier), 2: invoice(2, NOVEMBER, latest, "open")}
    return billing


@pytest.fixture
def billing() -> SupportBilling:
    return SupportBilling()


# --- the comparison -------------------------------------------------------------------------
def test_an_item_whose_quantity_changed_is_one_change_not_two() -> None:
    before = invoice(1, OCTOBER, [item("Calls to Mexico (30 min)", "4.50", "international")])
    after = invoice(2, NOVEMBER, [item("Calls to Mexico (45 min)", "6.75", "international")])

    [change] = compare(after, before).changes

    assert (change.what, change.delta) == ("up", usd("2.25"))


def test_changes_are_biggest_first_and_add_up_to_the_difference_with_tax() -> None:
    roaming = item("Roaming data, Canada", "15.00", "roaming", JORDAN_LINE)
    assistance = item("Directory assistance", "2.00", "usage")
    diff = compare(invoice(2, NOVEMBER, [PLAN, roaming]), invoice(1, OCTOBER, [PLAN, assistance]))

    assert [c.what for c in diff.changes] == ["new", "gone"]
    net = sum(c.delta.minor for c in diff.changes)
    assert net + diff.tax_delta.minor == diff.total_delta.minor


def test_a_plan_swapped_on_a_line_is_not_taken_for_an_add_on() -> None:
    smaller = item("Essentials 10 monthly plan", "35.00", "recurring")
    diff = compare(invoice(2, NOVEMBER, [smaller]), invoice(1, OCTOBER, [PLAN]))

    assert diff.new_recurring == ()


# --- the conversation -------------------------------------------------------------------------
async def test_a_higher_bill_is_explained_total_first_then_line_by_line(
    billing: SupportBilling,
) -> None:
    roaming = item("Data in Canada", "15.00", "roaming", JORDAN_LINE)
    calls = item("International calls", "5.70", "international")
    assistance = item("Directory assistance", "2.00", "usage")
    bills(billing, [PLAN, assistance], [PLAN, roaming, calls])
    sam = Talk(SAM, billing)

    reply = await sam.say("why is my bill higher", "bill_explain")

    assert reply.text.splitlines() == [
        "Your latest bill, INV-2 (October 2026), is $118.45: $20.01 more than the one before "
        "($98.44).",
        "What changed:",
        "• Roaming abroad: Data in Canada on +1 202-555-0103, $15.00 (no roaming last time).",
        "• International calls on +1 202-555-0102: $5.70 (none last time).",
        "• Directory assistance on +1 202-555-0102 ($2.00 last time) is not on this bill.",
        "• Tax: $1.31 more, as it follows the charges ($7.75 in all).",
    ]
    assert reply.options == () and not sam.conv.state.active  # nothing to offer


async def test_a_lower_bill_usage_over_the_allowance_and_an_ended_discount_are_worded(
    billing: SupportBilling,
) -> None:
    discount = item("Loyalty discount", "-10.00", "discount")
    overage = item("Data over allowance (2 GB)", "20.00", "usage")
    one_off = item("SIM replacement", "5.00", "one_off")
    bills(
        billing,
        [PLAN, overage, one_off],
        [PLAN, item("Data over allowance (1 GB)", "10.00", "usage")],
    )

    lower = await Talk(SAM, billing).say("why did my bill go down", "bill_explain")
    bills(billing, [PLAN, discount], [PLAN])
    ended = await Talk(SAM, billing).say("why is my bill higher", "bill_explain")

    assert "$16.05 less than the one before" in lower.text
    assert (
        "• Data over allowance (1 GB) (usage over your allowance): $10.00, $10.00 less than "
        "last time ($20.00)." in lower.text
    )
    assert "• SIM replacement ($5.00 last time) is not on this bill." in lower.text
    assert "• A discount ended: Loyalty discount took $10.00 off last time." in ended.text


async def test_the_same_bill_says_nothing_changed(billing: SupportBilling) -> None:
    bills(billing, [PLAN], [PLAN])

    reply = await Talk(SAM, billing).say("explain my bill", "bill_explain")

    assert "the same as the one before" in reply.text
    assert "The charges are the same as last time." in reply.text


async def test_a_new_monthly_add_on_comes_with_an_offer_to_have_it_removed(
    billing: SupportBilling,
) -> None:
    pass_ = item("Travel pass add-on", "10.00", "recurring")
    bills(billing, [PLAN], [PLAN, pass_])
    sam = Talk(SAM, billing)

    await sam.say("why is my bill higher", "bill_explain")

    explained, offer = sam.replies
    assert "• New monthly charge: Travel pass add-on, $10.00." in explained.text
    assert offer.text == (
        "Travel pass add-on is a new monthly charge of $10.00. If you didn't ask for it, I can "
        "open a ticket for our team to remove it. Shall I?"
    )
    assert sam.values == ["yes", "no"] and billing.tickets == {}


async def test_yes_opens_one_ticket_to_remove_the_add_on(billing: SupportBilling) -> None:
    bills(billing, [PLAN], [PLAN, item("Travel pass add-on", "10.00", "recurring")])
    sam = Talk(SAM, billing)
    await sam.say("why is my bill higher", "bill_explain")

    done = await sam.say("1")  # "Yes"

    [ticket] = billing.tickets.values()
    assert ticket.subject == "Remove add-on: Travel pass add-on"
    assert done.text.startswith(f"Your ticket {ticket.reference} is open: our team will look")
    assert not sam.conv.state.active


async def test_no_opens_nothing_and_unclear_asks_again(billing: SupportBilling) -> None:
    bills(billing, [PLAN], [PLAN, item("Travel pass add-on", "10.00", "recurring")])
    sam = Talk(SAM, billing)
    await sam.say("why is my bill higher", "bill_explain")

    unclear = await sam.say("what would that do")
    declined = await sam.say("no")

    assert unclear.text.startswith("Please answer yes or no. Travel pass add-on is a new")
    assert declined.text == "OK, no ticket opened: Travel pass add-on stays on your bill."
    assert billing.tickets == {}


async def test_a_single_bill_is_explained_by_its_parts(billing: SupportBilling) -> None:
    billing.details = {
        1: invoice(
            1, NOVEMBER, [PLAN, item("International calls", "5.70", "international")], "open"
        )
    }

    reply = await Talk(SAM, billing).say("explain my bill", "bill_explain")

    assert reply.text.splitlines() == [
        "Your bill INV-1 (October 2026) is $102.40. This is what it's made of:",
        "• Family 2×20 monthly plan (monthly charge): $90.00",
        "• International calls (international calls): $5.70",
        "• Tax: $6.70",
        "It's your first bill, so there's no earlier one to compare it with.",
    ]
    assert [o.value for o in reply.options] == ["intent:invoice"]


async def test_no_bills_yet(billing: SupportBilling) -> None:
    billing.invoices.clear()

    reply = await Talk(SAM, billing).say("why is my bill higher", "bill_explain")

    assert reply.text == "You don't have any bills yet."


async def test_the_prepaid_customer_is_told_in_spanish_and_offered_the_balance(
    billing: SupportBilling,
) -> None:
    reply = await Talk(MARIA, billing).say("por qué pago más", "bill_explain")

    assert reply.text.startswith("Tienes prepago")
    assert [o.value for o in reply.options] == ["intent:balance"]


async def test_a_spanish_comparison_reads_in_spanish(billing: SupportBilling) -> None:
    bills(billing, [PLAN], [PLAN, item("Roaming UE", "3.00", "roaming")])
    spanish = Talk(replace(SAM, locale="es_ES"), billing)

    reply = await spanish.say("por qué ha subido mi factura", "bill_explain")

    assert reply.text.startswith("Tu última factura, INV-2 (octubre 2026), es de 99,51\xa0US$")
    assert "• Roaming UE: 3,00\xa0US$ (nada la vez anterior)." in reply.text


async def test_a_billing_error_reaches_the_engine_before_anything_is_said(
    billing: SupportBilling,
) -> None:
    bills(billing, [PLAN], [PLAN])
    billing.failing.add("get_invoice")

    with pytest.raises(BillingUnavailableError):  # the engine answers it politely
        await Talk(SAM, billing).say("why is my bill higher", "bill_explain")
