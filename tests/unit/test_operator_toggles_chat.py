"""The operator's feature toggles and contacts as chat sees them: what is switched off is
neither offered nor done, the refusal names where to get help, and HELP names the operator."""

from __future__ import annotations

from billing_client import Account
from bot.compliance import Operator, decide
from bot.features import contacts_text, enabled, unavailable_text
from bot.flow import FlowState, TurnContext
from bot.links import LinkSigner
from bot.operator import Features, OperatorConfig, Support
from bot.routing import Router
from bot.settings import Settings
from bot.store.conversations import ConversationState
from bot.types import InboundMessage, Reply
from intents.registry import default_registry
from tests.fakes import NOW, FakeBillingClient, parse

SETTINGS = Settings(demo=True, secret_key="unit-test-secret-key-0123")
ROUTER = Router(default_registry())
SUPPORT = Support(
    phone="+1 555 0100", email="care@acme.example", hours="Mon–Fri 9–17", url="https://acme.test"
)
ACME = OperatorConfig(name="Acme Mobile", support=SUPPORT)
NOTHING_EXTRA = Features(
    usage=False, invoices=False, autopay=False, plan_changes=False, contact_changes=False
)
LOCKED_DOWN = OperatorConfig(name="Acme Mobile", support=SUPPORT, features=NOTHING_EXTRA)
SAM = FakeBillingClient().accounts[1]
MARIA = FakeBillingClient().accounts[2]


async def send(
    text: str,
    intent: str,
    *,
    operator: OperatorConfig,
    account: Account = SAM,
    conv: ConversationState | None = None,
) -> Reply:
    conv = conv or ConversationState(FlowState(), account.id)
    ctx = TurnContext(
        message=InboundMessage("sms", "+12025550102", text, "x", NOW, as_phone="+12025550102"),
        text=text,
        parse=parse(text, intent),
        account=account,
        state=conv.state,
        billing=FakeBillingClient(),
        links=LinkSigner(SETTINGS.secret_key, SETTINGS.public_url),
        registry=ROUTER.registry,
        settings=SETTINGS,
        now=NOW,
        operator=operator,
    )
    replies, _ = await ROUTER.route(ctx, conv)
    return replies[-1]


def test_contacts_list_phone_with_hours_email_and_web_in_the_language() -> None:
    assert contacts_text(SUPPORT, "en") == (
        "call +1 555 0100 (Mon–Fri 9–17), email care@acme.example or visit https://acme.test"
    )
    assert contacts_text(SUPPORT, "es_ES").startswith("llama al +1 555 0100 (Mon–Fri 9–17)")


def test_blank_contacts_are_left_out() -> None:
    assert contacts_text(Support(phone="", email="a@b.example", hours="", url=""), "en") == (
        "email a@b.example"
    )


def test_every_feature_is_on_unless_the_operator_turns_it_off() -> None:
    assert enabled(Features(), "usage") and enabled(Features(), None)
    assert not enabled(NOTHING_EXTRA, "plan_changes")


def test_the_refusal_names_the_operator_and_its_contacts() -> None:
    text = unavailable_text(ACME, "usage", "en_US")

    assert text.startswith("Sorry, checking your usage isn't available in this chat.")
    assert "Acme Mobile support can help" in text and "care@acme.example" in text


async def test_usage_switched_off_is_refused_politely_with_contacts() -> None:
    reply = await send("how much data have i used", "usage", operator=LOCKED_DOWN)

    assert "checking your usage isn't available" in reply.text
    assert "+1 555 0100" in reply.text and "GB" not in reply.text


async def test_invoices_switched_off_are_refused_in_spanish_with_contacts() -> None:
    reply = await send("mi última factura", "invoice", operator=LOCKED_DOWN, account=MARIA)

    assert "consultar las facturas no está disponible" in reply.text
    assert "escribe a care@acme.example" in reply.text
    assert reply.link is None


async def _every_page(operator: OperatorConfig) -> set[str]:
    """The option values of every page of the menu (it shows eight entries at a time)."""
    values: set[str] = set()
    for page in range(1, 10):
        reply = await send(f"menu:{page}", "out_of_scope", operator=operator)
        values |= {option.value for option in reply.options}
        if reply.options[-1].value != f"menu:{page + 1}":
            return values
    return values


async def test_the_menu_leaves_out_what_is_switched_off() -> None:
    full = await _every_page(ACME)
    values = await _every_page(LOCKED_DOWN)

    assert {"intent:usage", "intent:invoice"} <= full
    assert "intent:usage" not in values and "intent:invoice" not in values
    assert "intent:balance" in values and "intent:web_login" in values


async def test_a_menu_pick_of_a_switched_off_intent_is_refused() -> None:
    reply = await send("intent:usage", "out_of_scope", operator=LOCKED_DOWN)

    assert "isn't available in this chat" in reply.text


async def test_a_flow_left_open_when_its_feature_went_off_is_closed_with_the_refusal() -> None:
    conv = ConversationState(FlowState(), SAM.id)
    conv.state.begin("usage", "anything")

    reply = await send("yes", "out_of_scope", operator=LOCKED_DOWN, conv=conv)

    assert "isn't available in this chat" in reply.text
    assert not conv.state.active


def test_help_names_the_configured_operator_and_contacts() -> None:
    outcome = decide("help", None, "HELP", Operator.from_config(ACME))

    assert outcome.text is not None
    assert outcome.text.startswith("Acme Mobile billing help")
    assert "+1 555 0100 (Mon–Fri 9–17)" in outcome.text and "care@acme.example" in outcome.text
    assert "Reply STOP" in outcome.text


def test_help_is_in_the_customers_language_whatever_word_they_typed() -> None:
    spanish = decide("help", None, "HELP", Operator.from_config(ACME), lang="es")
    ayuda = decide("help", None, "AYUDA", Operator.from_config(ACME), lang="en")

    assert spanish.text is not None and "Ayuda de Acme Mobile" in spanish.text
    assert "llama al +1 555 0100" in spanish.text
    assert ayuda.text is not None and "BAJA" in ayuda.text  # a Spanish word: Spanish


def test_a_fixed_contact_is_still_honoured() -> None:
    outcome = decide("help", None, "HELP", Operator("Acme Mobile", "help@acme.example"))

    assert outcome.text is not None and "Support: help@acme.example." in outcome.text
