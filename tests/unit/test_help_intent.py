"""`help`: what billbot can do (the menu's list, as the operator allows it), the operator's
contacts and hours in the customer's language, and a way to a person."""

from __future__ import annotations

from bot.operator import Features, OperatorConfig, Support
from intents.registry import default_registry
from tests.fakes import FakeBillingClient
from tests.support_fakes import MARIA_ID, SAM_ID, Talk

SAM = FakeBillingClient().accounts[SAM_ID]
MARIA = FakeBillingClient().accounts[MARIA_ID]
ACME = OperatorConfig(
    name="Acme Mobile",
    support=Support(phone="+1 555 0100", email="care@acme.example", hours="Mon–Fri 9–17"),
)


async def test_help_lists_everything_billbot_does_with_contacts_and_a_person() -> None:
    sam = Talk(SAM, operator=ACME)

    reply = await sam.say("help")

    assert sam.intent == "help"
    assert reply.text.startswith("I'm Acme Mobile's billing assistant. I can help with: balance")
    assert "block a lost or stolen SIM" in reply.text  # "SIM" keeps its capitals
    assert "payment history and receipts" in reply.text  # on the menu's second page
    assert "help and contact us" not in reply.text.lower()  # not itself
    assert (
        "To reach our team directly: call +1 555 0100 (Mon–Fri 9–17) or email care@acme.example."
        in reply.text
    )
    assert [o.value for o in reply.options] == ["intent:open_ticket", "menu:1"]
    assert reply.options[0].label == "Talk to a person"


async def test_picking_talk_to_a_person_opens_a_ticket() -> None:
    sam = Talk(SAM, operator=ACME)
    await sam.say("i need help", "help")

    reply = await sam.say("1")

    assert sam.intent == "open_ticket" and "describe the problem" in reply.text


async def test_help_in_spanish_for_the_spanish_customer() -> None:
    maria = Talk(MARIA, operator=ACME)

    reply = await maria.say("ayuda")

    assert reply.text.startswith("Soy el asistente de facturación de Acme Mobile.")
    assert "llama al +1 555 0100 (Mon–Fri 9–17) o escribe a care@acme.example" in reply.text
    assert [o.label for o in reply.options] == ["Hablar con una persona", "Ver el menú"]


async def test_what_the_operator_switched_off_is_not_offered_in_help() -> None:
    off = OperatorConfig(name="Acme Mobile", features=Features(usage=False, invoices=False))
    sam = Talk(SAM, operator=off)

    reply = await sam.say("help")

    assert "data and usage" not in reply.text and "my invoices" not in reply.text
    assert "why is my bill different?" not in reply.text


async def test_hours_are_named_even_without_a_phone_number() -> None:
    web_only = OperatorConfig(
        support=Support(phone="", email="", hours="24/7", url="https://x.test")
    )

    reply = await Talk(SAM, operator=web_only).say("help")

    assert "To reach our team directly: visit https://x.test." in reply.text
    assert "Opening hours: 24/7." in reply.text


async def test_a_stranger_gets_contacts_but_no_account_menu() -> None:
    stranger = Talk(None, operator=ACME)

    reply = await stranger.say("help")

    assert "I don't recognise this number" in reply.text
    assert "call +1 555 0100" in reply.text
    assert reply.options == ()


async def test_the_list_is_the_menu_in_the_same_order() -> None:
    reply = await Talk(SAM).say("help")
    listed = reply.text.split("can help with: ")[1].split(".\n")[0]
    registry = default_registry()
    labels = [  # Sam is postpaid: a top-up is not offered to him
        label["en"]
        for name, label in registry.menu_entries
        if name != "help" and registry.billing_types_of(name) != frozenset({"prepaid"})
    ]

    # as parts of a sentence: the first letter lowered, question marks dropped
    positions = [listed.find(label.strip("¿?")[1:]) for label in labels]

    assert -1 not in positions and positions == sorted(positions)
