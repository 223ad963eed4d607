"""`web_login` and the sign-in links `invoice` and `pay_bill` hand out, with an in-memory
billing client: who the link signs in, where it lands, and what it says."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from urllib.parse import urlsplit

import pytest

from billing_client import Account
from bot.flow import FlowState, TurnContext
from bot.links import LinkSigner, OneUseClaim
from bot.operator import Features, OperatorConfig
from bot.routing import Router
from bot.settings import Settings
from bot.store.conversations import ConversationState
from bot.types import InboundMessage, Reply
from intents.registry import default_registry
from tests.fakes import NOW, FakeBillingClient, parse

SETTINGS = Settings(demo=True, secret_key="unit-test-secret-key-0123")
SIGNER = LinkSigner(SETTINGS.secret_key, SETTINGS.public_url)
ROUTER = Router(default_registry())


class Turn:
    """One customer's messages through the real router, as the engine would send them."""

    def __init__(
        self,
        account: Account | None,
        operator: OperatorConfig | None = None,
        phone: str = "+12025550102",
    ) -> None:
        self.phone = phone
        self.billing = FakeBillingClient()
        self.account = account
        self.operator = operator or OperatorConfig()
        self.conv = ConversationState(FlowState(), account.id if account else None)

    async def say(self, text: str, intent: str) -> Reply:
        ctx = TurnContext(
            message=InboundMessage("sms", self.phone, text, "x", NOW, as_phone=self.phone),
            text=text,
            parse=parse(text, intent),
            account=self.account,
            state=self.conv.state,
            billing=self.billing,
            links=SIGNER,
            registry=ROUTER.registry,
            settings=SETTINGS,
            now=NOW,
            operator=self.operator,
        )
        replies, _ = await ROUTER.route(ctx, self.conv)
        return replies[-1]


def claim_of(url: str) -> OneUseClaim:
    path = urlsplit(url).path
    assert path.startswith("/signin/link/")
    return SIGNER.login_claim(path.removeprefix("/signin/link/"))


@pytest.fixture
def sam() -> Turn:
    return Turn(FakeBillingClient().accounts[1])


@pytest.fixture
def maria() -> Turn:
    return Turn(FakeBillingClient().accounts[2])


async def test_the_link_signs_the_customer_in_to_their_account_page(sam: Turn) -> None:
    reply = await sam.say("send me a login link", "web_login")

    assert reply.link is not None and reply.link in reply.text
    assert reply.link_label == "Open my account"
    assert claim_of(reply.link).account_id == 1
    assert claim_of(reply.link).value == "/account"
    assert "once" in reply.text and "15 minutes" in reply.text


async def test_a_spanish_customer_is_told_in_spanish(maria: Turn) -> None:
    reply = await maria.say("abrir mi cuenta", "web_login")

    assert reply.link is not None
    assert reply.link_label == "Abrir mi cuenta"
    assert "una sola vez" in reply.text and "15 minutos" in reply.text
    assert claim_of(reply.link).account_id == 2


async def test_each_link_is_a_new_single_use_link(sam: Turn) -> None:
    first = await sam.say("log me in to the website", "web_login")
    second = await sam.say("log me in to the website", "web_login")

    assert first.link is not None and second.link is not None
    assert claim_of(first.link).nonce != claim_of(second.link).nonce


async def test_a_stranger_gets_no_link_and_no_account_detail() -> None:
    stranger = Turn(None, phone="+12025550199")

    reply = await stranger.say("send me a login link", "web_login")

    assert reply.link is None
    assert "/signin/" not in reply.text
    assert "don't recognise this number" in reply.text


async def test_the_menu_offers_opening_the_account(sam: Turn) -> None:
    first = await sam.say("menu", "out_of_scope")
    more = await sam.say(str(len(first.options)), "out_of_scope")  # "9. More…"

    assert first.options[-1].value == "menu:2"
    assert "intent:web_login" in [option.value for option in more.options]


async def test_one_invoice_links_to_that_invoice_on_the_web_view(sam: Turn) -> None:
    reply = await sam.say("my last bill", "invoice")

    assert reply.link is not None
    assert claim_of(reply.link).value == "/account/invoices/100"
    assert claim_of(reply.link).account_id == 1
    assert reply.link_label == "Open invoice INV-100"


async def test_several_invoices_link_to_the_list(sam: Turn) -> None:
    older = replace(sam.billing.invoices[100], id=99, number="INV-99", status="paid")
    sam.billing.invoices[99] = replace(older, due_on=date(2026, 10, 16))

    reply = await sam.say("my invoices", "invoice")

    assert reply.link is not None
    assert claim_of(reply.link).value == "/account/invoices"
    assert reply.link_label == "All invoices"


async def test_pay_keeps_the_pay_link_when_paying_without_sign_in_is_allowed(sam: Turn) -> None:
    reply = await sam.say("pay my bill", "pay_bill")

    assert reply.link is not None and "/pay/" in reply.link
    assert reply.image_url is not None


async def test_pay_gives_a_sign_in_link_when_the_operator_wants_customers_signed_in() -> None:
    features = Features(pay_without_sign_in=False)
    sam = Turn(FakeBillingClient().accounts[1], OperatorConfig(features=features))

    reply = await sam.say("pay my bill", "pay_bill")

    assert reply.link is not None
    assert claim_of(reply.link).value == "/account/pay"
    assert reply.image_url is None
    assert "$118.45" in reply.text and "card details" in reply.text
    assert sam.billing.links == {}  # no pay link was made that nobody may use
