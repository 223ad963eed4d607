"""The customer web view in-process: sign-in by link and by code, sessions, CSRF, the pages,
the invoice PDF, preferences the bot follows, autopay, email change and tickets."""

from __future__ import annotations

import io
import re
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from urllib.parse import urlsplit

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from pypdf import PdfReader
from sqlalchemy import select

from billing_client import Account
from bot import otp
from bot.clock import FakeClock
from bot.operator import Features, OperatorConfig, Support
from bot.payments.autopay import charge_due
from bot.services import Services
from bot.store.models import SignInAttempt
from tests.helpers import client_for

ALEX, SAM, MARIA = "+12025550101", "+12025550102", "+12025550104"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def account_of(services: Services, phone: str) -> Account:
    account = await services.billing.find_account_by_msisdn(phone)
    assert account is not None
    return account


async def token_of(client: httpx.AsyncClient, path: str) -> str:
    page = await client.get(path)
    found = CSRF.search(page.text)
    assert found is not None, f"{path}: {page.status_code} {page.text[:300]}"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, services: Services, phone: str) -> None:
    """Through a chat's sign-in link, as a customer does."""
    link = urlsplit(services.links.login_url((await account_of(services, phone)).id)).path
    response = await client.post(link, data={"csrf": await token_of(client, link)})
    assert response.status_code == 303, response.text[:300]


@pytest.fixture
async def alex(client: httpx.AsyncClient, services: Services) -> httpx.AsyncClient:
    await sign_in(client, services, ALEX)
    return client


# --- signing in -----------------------------------------------------------------------------
async def test_account_pages_need_sign_in_and_come_back_after_it(
    client: httpx.AsyncClient, services: Services
) -> None:
    before = await client.get("/account/invoices")
    assert before.status_code == 303
    assert before.headers["location"] == "/signin?next=/account/invoices"

    account = await account_of(services, ALEX)
    link = urlsplit(services.links.login_url(account.id, next_path="/account/invoices")).path
    landed = await client.post(link, data={"csrf": await token_of(client, link)})

    assert landed.headers["location"] == "/account/invoices"
    cookie = landed.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert (await client.get("/account/invoices")).status_code == 200


async def test_a_sign_in_link_works_once(client: httpx.AsyncClient, services: Services) -> None:
    account = await account_of(services, ALEX)
    link = urlsplit(services.links.login_url(account.id)).path
    token = await token_of(client, link)

    first = await client.post(link, data={"csrf": token})
    second = await client.post(link, data={"csrf": token})
    again = await client.get(link)

    assert first.status_code == 303
    assert second.status_code == again.status_code == 410
    assert "already used or has expired" in again.text


async def test_opening_a_link_does_not_spend_it(
    client: httpx.AsyncClient, services: Services
) -> None:
    """Link previews in messaging apps fetch the URL: only the button signs in."""
    link = urlsplit(services.links.login_url((await account_of(services, ALEX)).id)).path

    for _ in range(3):
        assert (await client.get(link)).status_code == 200
    assert (await client.get("/account")).status_code == 303


class SignedLongAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 16 * 60  # a link from 16 minutes ago


async def test_an_expired_or_forged_link_is_a_clear_page(
    client: httpx.AsyncClient, services: Services
) -> None:
    old = URLSafeTimedSerializer(
        services.settings.secret_key, salt="billbot.sign-in", signer=SignedLongAgo
    )
    account = await account_of(services, ALEX)
    forged = await client.get("/signin/link/not-a-real-token")
    expired = await client.get(f"/signin/link/{old.dumps([account.id, 'n0nce123', '/account'])}")

    assert forged.status_code == 404 and "not valid" in forged.text
    assert expired.status_code == 410 and "expired" in expired.text


async def code_for(services: Services) -> str:
    async with services.sessions() as session:
        attempt = await session.scalar(
            select(SignInAttempt).order_by(SignInAttempt.created_at.desc()).limit(1)
        )
    assert attempt is not None
    return otp.OneTimeCodes(services.settings.secret_key).code(attempt.reference)


async def ask_code(client: httpx.AsyncClient, phone: str) -> httpx.Response:
    return await client.post(
        "/signin", data={"csrf": await token_of(client, "/signin"), "phone": phone}
    )


async def send_code(client: httpx.AsyncClient, code: str) -> httpx.Response:
    return await client.post(
        "/signin/code", data={"csrf": await token_of(client, "/signin/code"), "code": code}
    )


async def test_sign_in_by_a_code_texted_to_the_number(
    client: httpx.AsyncClient, services: Services
) -> None:
    asked = await ask_code(client, "(202) 555-0102")
    assert asked.status_code == 303 and asked.headers["location"] == "/signin/code"

    entries = [e for e in await services.outbox.list(limit=20) if e.kind == "sign_in_code"]
    assert [e.recipient for e in entries] == [SAM]
    code = await code_for(services)
    assert all(code not in str(e.as_dict()) for e in entries)  # never stored in the log

    signed = await send_code(client, code)
    assert signed.status_code == 303 and signed.headers["location"] == "/account"
    assert "Sam" in (await client.get("/account")).text


async def test_a_stranger_gets_the_same_answer_and_no_text(
    client: httpx.AsyncClient, services: Services
) -> None:
    asked = await ask_code(client, "+12025550199")
    page = await client.get("/signin/code")

    assert asked.status_code == 303
    assert "If this number has an account with us" in page.text
    assert not [e for e in await services.outbox.list(limit=20) if e.kind == "sign_in_code"]
    wrong = await send_code(client, "123456")
    assert wrong.status_code == 400 and "not right" in wrong.text


async def test_five_wrong_codes_end_the_code_and_lock_the_browser_not_the_customer(
    client: httpx.AsyncClient, services: Services
) -> None:
    await ask_code(client, ALEX)
    code = await code_for(services)
    wrong = str((int(code) + 1) % 10**6).zfill(6)
    answers = [(await send_code(client, wrong)).status_code for _ in range(5)]
    final = await send_code(client, code)

    assert answers == [400] * 5
    assert final.status_code == 429 and "30 minutes" in final.text  # this requester: locked
    other = client_for(services)
    async with other:
        await sign_in(other, services, ALEX)  # the customer's own link still works
        assert (await other.get("/account")).status_code == 200


async def test_codes_per_number_are_capped(client: httpx.AsyncClient) -> None:
    statuses = [(await ask_code(client, ALEX)).status_code for _ in range(4)]

    assert statuses == [303, 303, 303, 429]


async def test_a_bad_number_is_explained(client: httpx.AsyncClient) -> None:
    response = await ask_code(client, "call me maybe")

    assert response.status_code == 400 and "country code" in response.text


async def test_sessions_end_when_idle_and_on_sign_out(
    alex: httpx.AsyncClient, services: Services, clock: FakeClock
) -> None:
    assert (await alex.get("/account")).status_code == 200
    clock.advance(seconds=services.settings.web_session_idle_seconds + 1)
    assert (await alex.get("/account")).status_code == 303

    await sign_in(alex, services, ALEX)
    out = await alex.post("/signout", data={"csrf": await token_of(alex, "/account")})
    assert out.status_code == 303
    assert (await alex.get("/account")).status_code == 303


async def test_a_session_ends_after_its_absolute_lifetime_even_when_busy(
    alex: httpx.AsyncClient, services: Services, clock: FakeClock
) -> None:
    step = services.settings.web_session_idle_seconds - 60
    for _ in range(services.settings.web_session_max_seconds // step + 1):
        clock.advance(seconds=step)
        last = await alex.get("/account")
    assert last.status_code == 303


# --- CSRF and other customers' things -------------------------------------------------------
@pytest.mark.parametrize(
    "path", ["/account/preferences", "/account/autopay/enrol", "/signout", "/signin"]
)
async def test_a_form_post_without_the_token_is_403_and_changes_nothing(
    alex: httpx.AsyncClient, path: str
) -> None:
    response = await alex.post(path, data={"alert": "bill_ready", "phone": ALEX})

    assert response.status_code == 403
    assert (await alex.get("/account")).status_code == 200  # still signed in


async def test_another_customers_invoice_and_receipt_are_404(
    alex: httpx.AsyncClient, services: Services
) -> None:
    sam = await account_of(services, SAM)
    now = services.clock.now()
    invoice = (await services.billing.list_invoices(sam.id, now=now, limit=1))[0]
    sams_payments = await services.billing.list_payments(sam.id)
    paths = [
        f"/account/invoices/{invoice.id}",
        f"/account/invoices/{invoice.id}/invoice.pdf",
        f"/account/invoices/{invoice.id}/pay",
        "/account/invoices/999999",
    ]
    paths += [f"/account/payments/{p.id}" for p in sams_payments[:1]] + ["/account/payments/9999"]
    for path in paths:
        response = await alex.get(path)
        assert response.status_code == 404, path
        assert invoice.number not in response.text


# --- the pages -------------------------------------------------------------------------------
async def test_the_dashboard_shows_what_is_due_and_the_usage_chart(
    alex: httpx.AsyncClient,
) -> None:
    page = await alex.get("/account")

    assert "$64.20" in page.text
    assert '<svg class="meter"' in page.text and "41.5 GB" in page.text
    assert 'href="/account/pay"' in page.text


async def test_the_invoice_page_and_its_pdf_agree(
    alex: httpx.AsyncClient, services: Services
) -> None:
    account = await account_of(services, ALEX)
    invoice = (
        await services.billing.list_invoices(account.id, now=services.clock.now(), limit=1)
    )[0]
    page = await alex.get(f"/account/invoices/{invoice.id}")
    pdf = await alex.get(f"/account/invoices/{invoice.id}/invoice.pdf")

    assert invoice.number in page.text and "Subtotal" in page.text and "Tax" in page.text
    assert pdf.headers["content-type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    for figure in (
        invoice.number,
        invoice.total.format(),
        invoice.subtotal.format(),
        invoice.tax.format(),
        invoice.amount_due.format(),
    ):
        assert figure in text, figure


async def test_paying_from_the_account_records_a_receipt(
    alex: httpx.AsyncClient, services: Services
) -> None:
    to_pay = await alex.get("/account/pay")
    pay_path = urlsplit(to_pay.headers["location"]).path
    posted = await alex.post(pay_path, data={"csrf": await token_of(alex, pay_path)})
    back = urlsplit(posted.headers["location"])
    await alex.get(f"{back.path}?{back.query}")

    payments = await alex.get("/account/payments")
    account = await account_of(services, ALEX)
    latest = (await services.billing.list_payments(account.id))[0]
    receipt = await alex.get(f"/account/payments/{latest.id}")
    pdf = await alex.get(f"/account/payments/{latest.id}/receipt.pdf")

    assert "$64.20" in payments.text
    assert latest.provider_reference in receipt.text
    assert "$64.20" in " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)


async def test_preferences_are_what_the_bot_follows(
    alex: httpx.AsyncClient, services: Services
) -> None:
    csrf = await token_of(alex, "/account/preferences")
    form = {
        "csrf": csrf,
        "alert": ["bill_ready", "bill_due"],
        "channel": "email",
        "quiet_start": "22:00",
        "quiet_end": "07:00",
        "usage_levels": "50, 90",
        "limit": "120",
        "limit_bar": "on",
        "locale": "es_ES",
    }
    saved = await alex.post("/account/preferences", data=form)
    assert saved.status_code == 303

    chat = await alex.post("/api/chat", json={"text": "my alerts", "as": ALEX})
    replies = " ".join(r["text"] for r in chat.json()["replies"])
    limit = await services.billing.get_bill_limit(
        (await account_of(services, ALEX)).id, now=services.clock.now()
    )
    assert "Tus avisos" in replies and "22:00" in replies  # Spanish now, quiet hours set
    assert limit.limit is not None and limit.limit.minor == 12000 and limit.action == "bar"
    assert "Resumen" in (await alex.get("/account")).text


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("usage_levels", "eighty"),
        ("usage_levels", "0, 150"),
        ("limit", "lots"),
        ("quiet_start", "25:00"),
        ("channel", "pigeon"),
        ("locale", "xx_XX"),
    ],
)
async def test_a_bad_preference_is_explained_and_saves_nothing(
    alex: httpx.AsyncClient, services: Services, field: str, value: str
) -> None:
    form = {
        "csrf": await token_of(alex, "/account/preferences"),
        "alert": "bill_ready",
        "usage_levels": "80, 100",
        field: value,
    }
    response = await alex.post("/account/preferences", data=form)

    assert response.status_code == 400
    chat = await alex.post("/api/chat", json={"text": "my alerts", "as": ALEX})
    assert "Your alerts" in " ".join(r["text"] for r in chat.json()["replies"])


async def test_autopay_enrols_shows_the_next_charge_and_charges_once_on_the_due_day(
    alex: httpx.AsyncClient, services: Services, clock: FakeClock
) -> None:
    enrolled = await alex.post(
        "/account/autopay/enrol", data={"csrf": await token_of(alex, "/account/autopay")}
    )
    back = urlsplit(enrolled.headers["location"])
    await alex.get(f"{back.path}?{back.query}")
    page = await alex.get("/account/autopay")
    assert "Autopay is on with Sandbox card •••• 4242" in page.text
    assert "Next charge: $64.20" in page.text

    assert await charge_due(services, now=clock.now()) == []  # not due yet
    clock.advance(days=10)
    first = await charge_due(services, now=clock.now())
    second = await charge_due(services, now=clock.now())
    assert [c.status for c in first] == ["succeeded"] and second == []
    balance = await services.billing.get_balance(
        (await account_of(services, ALEX)).id, now=clock.now()
    )
    assert balance.amount_due.minor == 0


async def test_autopay_can_be_cancelled(alex: httpx.AsyncClient) -> None:
    enrolled = await alex.post(
        "/account/autopay/enrol", data={"csrf": await token_of(alex, "/account/autopay")}
    )
    back = urlsplit(enrolled.headers["location"])
    await alex.get(f"{back.path}?{back.query}")
    cancelled = await alex.post(
        "/account/autopay/cancel", data={"csrf": await token_of(alex, "/account/autopay")}
    )

    assert cancelled.status_code == 303
    assert "Autopay is off" in (await alex.get("/account/autopay")).text


async def test_an_email_change_waits_for_the_link_sent_to_the_new_address(
    alex: httpx.AsyncClient, services: Services
) -> None:
    csrf = await token_of(alex, "/account/contact")
    asked = await alex.post(
        "/account/contact/email", data={"csrf": csrf, "email": "alex.new@example.org"}
    )
    assert asked.status_code == 303
    account = await account_of(services, ALEX)
    assert account.email == "alex.rivera@example.com"  # not yet
    sent = [e for e in await services.outbox.list(limit=20) if e.kind == "email_confirm"]
    assert [e.recipient for e in sent] == ["alex.new@example.org"]

    link = urlsplit(services.links.email_change_url(account.id, "alex.new@example.org")).path
    confirm = await alex.post(link, data={"csrf": await token_of(alex, link)})
    again = await alex.post(link, data={"csrf": await token_of(alex, "/account")})
    assert confirm.status_code == 200 and "alex.new@example.org" in confirm.text
    assert again.status_code == 410
    assert (await account_of(services, ALEX)).email == "alex.new@example.org"


async def test_a_bad_email_is_explained(alex: httpx.AsyncClient) -> None:
    response = await alex.post(
        "/account/contact/email",
        data={"csrf": await token_of(alex, "/account/contact"), "email": "not an email"},
    )

    assert response.status_code == 400 and "does not look like an email" in response.text


async def test_tickets_show_the_conversation_and_take_a_message_once(
    alex: httpx.AsyncClient, services: Services
) -> None:
    account = await account_of(services, ALEX)
    ticket = await services.billing.create_ticket(
        account.id,
        subject="No signal at home",
        description="Since Monday",
        channel="web",
        idempotency_key="t-web-1",
        now=services.clock.now(),
    )
    path = f"/account/tickets/{ticket.reference}"
    page = await alex.get(path)
    key = re.search(r'name="key" value="([^"]+)"', page.text)
    assert key is not None and "Since Monday" in page.text
    form = {"csrf": await token_of(alex, path), "key": key.group(1), "message": "Still down"}

    await alex.post(path, data=form)
    await alex.post(path, data=form)  # a resubmit

    messages = await services.billing.ticket_messages(account.id, ticket.reference)
    assert [m.body for m in messages].count("Still down") == 1
    assert (await alex.get("/account/tickets")).text.count(ticket.reference) >= 1


async def test_maria_sees_her_pages_in_spanish(
    client: httpx.AsyncClient, services: Services
) -> None:
    await sign_in(client, services, MARIA)
    page = await client.get("/account")

    assert 'lang="es"' in page.text and "Saldo de prepago" in page.text
    assert "12,50" in page.text


async def test_help_and_sign_in_pages_follow_the_browser_language(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/help", headers={"accept-language": "es-ES,es;q=0.9"})

    assert 'lang="es"' in page.text and "Ayuda y contacto" in page.text


async def test_docs_work_offline(client: httpx.AsyncClient) -> None:
    docs = await client.get("/docs")
    script = await client.get("/static/swagger/swagger-ui-bundle.js")

    assert "/static/swagger/swagger-ui-bundle.js" in docs.text and "cdn" not in docs.text
    assert script.status_code == 200 and len(script.content) > 100_000
    assert (await client.get("/favicon.ico")).status_code == 308


# --- the operator's configuration ------------------------------------------------------------
@pytest.fixture
async def restricted(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    operator = OperatorConfig(
        name="Example Mobile",
        support=Support(phone="+1 202 555 0142", email="care@example.com", hours="24/7"),
        features=Features(
            usage=False, autopay=False, contact_changes=False, pay_without_sign_in=False
        ),
    )
    configured = replace(services, operator=operator)
    async with client_for(configured) as http:
        await sign_in(http, configured, ALEX)
        yield http


async def test_the_operator_decides_what_customers_see(
    restricted: httpx.AsyncClient, services: Services
) -> None:
    dashboard = await restricted.get("/account")
    help_page = await restricted.get("/help")

    assert "Example Mobile" in dashboard.text and '<svg class="meter"' not in dashboard.text
    assert 'href="/account/autopay"' not in dashboard.text
    assert (await restricted.get("/account/autopay")).status_code == 404
    assert "+1 202 555 0142" in help_page.text and "care@example.com" in help_page.text
    contact = await restricted.get("/account/contact")
    assert 'action="/account/contact/email"' not in contact.text


async def test_without_pay_without_sign_in_a_pay_link_needs_the_holder(
    restricted: httpx.AsyncClient, services: Services
) -> None:
    account = await account_of(services, SAM)
    invoice = (
        await services.billing.get_balance(account.id, now=services.clock.now())
    ).open_invoices[0]
    link = await services.billing.create_payment_link(
        account.id, invoice.id, now=services.clock.now(), ttl_seconds=600
    )
    response = await restricted.get(urlsplit(services.links.pay_url(link.id)).path)

    assert response.status_code == 303  # Alex is signed in, not Sam
    assert response.headers["location"].startswith("/signin?next=/account/invoices/")


async def test_the_brand_colours_come_from_the_operator(services: Services) -> None:
    configured = replace(services, operator=OperatorConfig(name="Teal Telecom"))
    async with client_for(configured) as http:
        css = await http.get("/brand.css")
        page = await http.get("/signin")

    assert "--accent: #0b5cad" in css.text and css.headers["content-type"].startswith("text/css")
    assert "Teal Telecom" in page.text
