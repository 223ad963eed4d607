"""The customer web view in a real, headless Chromium: signing in by link and by code, invoices
and their PDF, paying (sandbox and the Stripe fake), autopay, preferences, accessibility, and
what a customer may not see.

billbot runs as `billbot demo` in a child process with its own SQLite database and a secret
the test knows, so the test can sign links the way chat does and read the SMS billbot recorded.
One server and one browser per module. Each test works on its own demo customer's state, so
the tests pass in any order and on either xdist worker: Alex's $64.20 stays unpaid (he
enrols in autopay and turns usage alerts off; he pays only on the Stripe server, a server of
its own); Sam pays his $118.45 in the sandbox; María (Spanish, prepaid) switches to English
and back.
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from pypdf import PdfReader

from bot.links import LinkSigner
from bot.otp import OneTimeCodes
from tests.e2e.browser import billbot_demo, launch_chromium, require_chromium
from tests.stripe_fake import FakeStripe, ThreadedFakeStripe

ALEX, SAM, MARIA = "+12025550101", "+12025550102", "+12025550104"
STRANGER = "+12025550199"  # a well-formed number that is nobody's: same page, no SMS
SECRET = secrets.token_urlsafe(32)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
WIDTHS = (320, 390, 1280)
BLOCKING = ("serious", "critical")


@dataclass(frozen=True, slots=True)
class Invoice:
    id: int
    number: str
    due_on: date


@dataclass(frozen=True, slots=True)
class Site:
    """A running billbot, and what the test may know about it: its database and secret."""

    url: str
    database: Path
    secret: str

    def rows(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(f"file:{self.database}?mode=ro", uri=True)) as db:
            return db.execute(sql, params).fetchall()

    def account_id(self, phone: str) -> int:
        return int(self.rows("SELECT account_id FROM lines WHERE msisdn = ?", phone)[0][0])

    def newest_invoice(self, phone: str) -> Invoice:
        """The customer's latest bill: the open one, in the demo data (paid, once paid)."""
        (found,) = self.rows(
            "SELECT id, number, due_on FROM invoices WHERE account_id = ? ORDER BY id DESC "
            "LIMIT 1",
            self.account_id(phone),
        )
        return Invoice(found[0], found[1], date.fromisoformat(found[2]))

    def first_payment_id(self, phone: str) -> int:
        sql = "SELECT min(id) FROM payments WHERE account_id = ?"
        return int(self.rows(sql, self.account_id(phone))[0][0])

    def sign_in_link(self, phone: str) -> str:
        """The single-use link chat hands out ("open my account")."""
        return LinkSigner(self.secret, self.url).login_url(self.account_id(phone))

    def chat(self, phone: str, text: str, session: str | None = None) -> dict[str, Any]:
        body = {"text": text, "as": phone, **({"session": session} if session else {})}
        answer = httpx.post(f"{self.url}/api/chat", json=body, timeout=10)
        answer.raise_for_status()
        reply: dict[str, Any] = answer.json()
        return reply

    def chat_text(self, phone: str, text: str) -> str:
        return "\n".join(reply["text"] for reply in self.chat(phone, text)["replies"])

    def last_sms(self, phone: str, kind: str) -> str:
        """The newest SMS of `kind` to `phone` as it goes out (codes filled in at the send)."""
        (row,) = self.rows(
            "SELECT replies FROM bot_outbox WHERE recipient = ? AND kind = ? "
            "ORDER BY id DESC LIMIT 1",
            phone,
            kind,
        )
        text = "\n".join(reply["text"] for reply in json.loads(row[0]))
        return OneTimeCodes(self.secret).fill(text)


def long_date(day: date) -> str:
    """How the web view writes a date in English: 'Dec 16, 2026'."""
    return f"{day:%b} {day.day}, {day.year}"


def opened(page: Page, url: str, status: int = 200) -> Page:
    response = page.goto(url)
    answered = response.status if response else None
    assert answered == status, f"{url} answered {answered}, not {status}"
    return page


def sign_in(context: BrowserContext, site: Site, phone: str) -> Page:
    """A page of `context`, signed in by a link from chat, on the account overview."""
    page = context.new_page()
    page.goto(site.sign_in_link(phone))
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(f"{site.url}/account")
    return page


# --- servers and browser -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    require_chromium()
    database = tmp_path_factory.mktemp("account") / "billbot.db"
    with billbot_demo(database, {"BILLBOT_SECRET_KEY": SECRET}) as url:
        yield Site(url, database, SECRET)


@pytest.fixture(scope="module")
def fake_stripe() -> Iterator[ThreadedFakeStripe]:
    require_chromium()
    with FakeStripe.start_in_thread() as fake:
        yield fake


@pytest.fixture(scope="module")
def stripe_site(
    tmp_path_factory: pytest.TempPathFactory, fake_stripe: ThreadedFakeStripe
) -> Iterator[Site]:
    database = tmp_path_factory.mktemp("stripe") / "billbot.db"
    env = {
        "BILLBOT_SECRET_KEY": SECRET,
        "BILLBOT_PAYMENT_PROVIDER": "stripe",
        "BILLBOT_STRIPE_API_BASE": fake_stripe.api_base,
        "BILLBOT_STRIPE_SECRET_KEY": fake_stripe.secret_key,
        "BILLBOT_STRIPE_WEBHOOK_SECRET": fake_stripe.webhook_secret,
    }
    with billbot_demo(database, env) as url:
        fake_stripe.fake.webhook_url = f"{url}/webhooks/stripe"
        yield Site(url, database, SECRET)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_chromium()
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile: no cookies, nobody signed in."""
    fresh = browser.new_context(locale="en-US")
    yield fresh
    fresh.close()


@pytest.fixture
def guest(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture(scope="module")
def alex(browser: Browser, site: Site) -> Iterator[Page]:
    """Alex, signed in once for the module (tests that only look at his pages share it)."""
    profile = browser.new_context(locale="en-US")
    yield sign_in(profile, site, ALEX)
    profile.close()


# --- signing in and out --------------------------------------------------------------------------
def test_alex_signs_in_with_the_link_from_chat_and_signs_out(site: Site, guest: Page) -> None:
    link = site.chat(ALEX, "open my account")["replies"][0]["link"]

    guest.goto(link)
    guest.get_by_role("button", name="Continue").click()

    expect(guest).to_have_url(f"{site.url}/account")
    expect(guest.get_by_role("region", name="Amount due")).to_contain_text("$64.20")
    expect(guest.get_by_role("img", name="Data: 41.5 GB / 50 GB")).to_be_visible()

    guest.get_by_role("button", name="Sign out").click()
    expect(guest.get_by_role("status")).to_have_text("You are signed out.")
    guest.goto(f"{site.url}/account")
    expect(guest).to_have_url(f"{site.url}/signin?next=/account")
    expect(guest.get_by_role("heading", name="Sign in to your account")).to_be_visible()


def test_sam_signs_in_with_the_code_texted_to_him(site: Site, guest: Page) -> None:
    guest.goto(f"{site.url}/signin")
    guest.get_by_label("Mobile number").fill("+1 202 555 0102")
    guest.get_by_role("button", name="Text me a code").click()
    expect(guest).to_have_url(f"{site.url}/signin/code")

    sms = site.last_sms(SAM, "sign_in_code")
    code = re.search(r"\b\d{6}\b", sms)
    assert code is not None, sms
    guest.get_by_label("6-digit code").fill(code.group())
    guest.get_by_role("button", name="Sign in").click()

    expect(guest).to_have_url(f"{site.url}/account")
    expect(guest.get_by_role("heading", name="Hello, Sam")).to_be_visible()


# --- invoices and paying -----------------------------------------------------------------------
def test_the_invoice_pdf_carries_the_number_total_and_amount_due(site: Site, alex: Page) -> None:
    invoice = site.newest_invoice(ALEX)
    alex.goto(f"{site.url}/account/invoices")
    alex.get_by_role("link", name=invoice.number).click()

    with alex.expect_download() as started:
        alex.get_by_role("link", name="Download PDF").click()
    download = started.value

    assert download.suggested_filename == f"invoice-{invoice.number}.pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(download.path()).pages)
    assert f"Invoice {invoice.number}" in text
    assert "Total $64.20" in text
    assert "Amount due $64.20" in text


def test_sam_pays_his_overdue_bill_in_the_sandbox_and_gets_a_receipt(
    site: Site, context: BrowserContext
) -> None:
    invoice = site.newest_invoice(SAM)
    page = sign_in(context, site, SAM)
    page.goto(f"{site.url}/account/invoices")
    page.get_by_role("link", name=invoice.number).click()
    page.get_by_role("link", name="Pay now").click()

    expect(page).to_have_url(re.compile(rf"^{re.escape(site.url)}/pay/"))
    expect(page.get_by_label("The full amount, $118.45")).to_be_checked()
    page.get_by_role("button", name="Pay now (sandbox)").click()
    expect(page.get_by_role("status")).to_have_text(
        f"Paid — thank you! $118.45 received for invoice {invoice.number}."
    )

    page.goto(f"{site.url}/account/payments")
    row = page.get_by_role("row").filter(has_text="$118.45")
    row.get_by_role("link", name=re.compile(r"^Receipt #\d+$")).click()
    expect(page.get_by_role("heading", name=re.compile(r"^Payment receipt #\d+$"))).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("$118.45")
    expect(page.get_by_role("link", name=invoice.number)).to_be_visible()


def test_alex_pays_on_the_stripe_page_and_its_webhook_settles_the_bill(
    stripe_site: Site, fake_stripe: ThreadedFakeStripe, context: BrowserContext
) -> None:
    invoice = stripe_site.newest_invoice(ALEX)
    page = sign_in(context, stripe_site, ALEX)
    page.goto(f"{stripe_site.url}/account/invoices/{invoice.id}")
    page.get_by_role("link", name="Pay now").click()
    page.get_by_role("button", name="Pay now").click()

    expect(page).to_have_url(re.compile(rf"^{re.escape(fake_stripe.api_base)}/checkout/"))
    page.get_by_role("button", name="Pay $64.20").click()

    expect(page).to_have_url(re.compile(rf"^{re.escape(stripe_site.url)}/pay/"))
    # Back before the webhook, the page says "confirming" and reloads itself until it lands.
    expect(page.get_by_text(re.compile(r"^Paid — thank you! \$64\.20"))).to_be_visible(
        timeout=15_000
    )
    webhooks = [(d.event_type, d.status) for d in fake_stripe.fake.deliveries]
    assert ("checkout.session.completed", 200) in webhooks

    page.goto(f"{stripe_site.url}/account/payments")
    page.get_by_role("row").filter(has_text="$64.20").get_by_role("link").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Payment receipt #\d+$"))).to_be_visible()
    expect(page.get_by_role("link", name=invoice.number)).to_be_visible()


def test_enrolling_in_autopay_shows_the_next_charge(site: Site, alex: Page) -> None:
    invoice = site.newest_invoice(ALEX)
    alex.goto(f"{site.url}/account")
    alex.get_by_role("link", name="Autopay").click()
    alex.get_by_role("button", name="Set up autopay").click()

    expect(alex.get_by_role("status")).to_have_text("Autopay is on.")
    expect(alex.get_by_text("Autopay is on with Sandbox card •••• 4242.")).to_be_visible()
    expect(alex.get_by_text(re.compile("^Next charge:"))).to_have_text(
        f"Next charge: $64.20 on {long_date(invoice.due_on)} (invoice {invoice.number})."
    )


# --- preferences the bot follows ---------------------------------------------------------------
def test_turning_off_usage_alerts_on_the_web_turns_them_off_in_chat(
    site: Site, alex: Page
) -> None:
    assert "Usage warnings: on" in site.chat_text(ALEX, "which alerts do I get")
    alex.goto(f"{site.url}/account/preferences")

    alex.get_by_label("Allowance nearly used").uncheck()
    alex.get_by_role("button", name="Save").click()

    expect(alex.get_by_role("status")).to_have_text("Saved.")
    expect(alex.get_by_label("Allowance nearly used")).not_to_be_checked()
    assert "Usage warnings: off" in site.chat_text(ALEX, "which alerts do I get")


def test_the_pages_and_the_chat_speak_the_language_chosen_on_the_web(
    site: Site, context: BrowserContext
) -> None:
    page = sign_in(context, site, MARIA)
    expect(page.get_by_role("heading", name="Hola, María")).to_be_visible()

    page.get_by_role("link", name="Ajustes").click()
    page.get_by_label("Idioma", exact=True).select_option(label="English")
    page.get_by_role("button", name="Guardar").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    assert "Your prepaid balance is $12.50" in site.chat_text(MARIA, "balance")

    page.get_by_label("Language", exact=True).select_option(label="Español")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Guardado.")
    page.get_by_role("link", name="Resumen").click()
    expect(page.get_by_role("heading", name="Hola, María")).to_be_visible()
    expect(page.get_by_role("region", name="Saldo de prepago")).to_contain_text("12,50")
    assert "Tu saldo de prepago es de 12,50" in site.chat_text(MARIA, "balance")


# --- accessibility and layout, page by page ----------------------------------------------------
@dataclass(frozen=True, slots=True)
class Visit:
    """Where a page is opened from: Alex's signed-in browser, or a fresh one."""

    site: Site
    alex: Page
    guest: Page

    def as_alex(self, path: str, status: int = 200) -> Page:
        page = opened(self.alex, f"{self.site.url}{path}", status)
        assert "/signin" not in page.url, f"{path} sent Alex to sign in"
        return page

    def as_guest(self, path: str, status: int = 200) -> Page:
        return opened(self.guest, f"{self.site.url}{path}", status)


def _code_page(visit: Visit) -> Page:
    page = visit.as_guest("/signin")
    page.get_by_label("Mobile number").fill(STRANGER)
    page.get_by_role("button", name="Text me a code").click()
    expect(page).to_have_url(f"{visit.site.url}/signin/code")
    return page


def _used_link_page(visit: Visit) -> Page:
    link = visit.site.sign_in_link(ALEX)
    sign_in_page = opened(visit.guest, link)
    sign_in_page.get_by_role("button", name="Continue").click()
    expect(sign_in_page).to_have_url(f"{visit.site.url}/account")
    return opened(visit.guest, link, 410)


def _ticket_page(visit: Visit) -> Page:
    asked = visit.site.chat(ALEX, "my internet keeps dropping")
    confirmed = visit.site.chat(ALEX, "yes", session=asked["session"])
    reference = re.search(r"T-\d+", confirmed["replies"][0]["text"])
    assert reference is not None, confirmed
    return visit.as_alex(f"/account/tickets/{reference.group()}")


PAGES: dict[str, Callable[[Visit], Page]] = {
    "signin": lambda v: v.as_guest("/signin"),
    "signin-code": _code_page,
    "signin-link": lambda v: opened(v.guest, v.site.sign_in_link(ALEX)),
    "signin-link-used": _used_link_page,
    "account": lambda v: v.as_alex("/account"),
    "invoices": lambda v: v.as_alex("/account/invoices"),
    "invoice": lambda v: v.as_alex(f"/account/invoices/{v.site.newest_invoice(ALEX).id}"),
    "payments": lambda v: v.as_alex("/account/payments"),
    "receipt": lambda v: v.as_alex(f"/account/payments/{v.site.first_payment_id(ALEX)}"),
    "autopay": lambda v: v.as_alex("/account/autopay"),
    "preferences": lambda v: v.as_alex("/account/preferences"),
    "contact": lambda v: v.as_alex("/account/contact"),
    "tickets": lambda v: v.as_alex("/account/tickets"),
    "ticket": _ticket_page,
    "help": lambda v: v.as_guest("/help"),
    "pay": lambda v: v.as_alex(f"/account/invoices/{v.site.newest_invoice(ALEX).id}/pay"),
    # Sam's invoice, asked for by Alex: the error page
    "not-found": lambda v: v.as_alex(f"/account/invoices/{v.site.newest_invoice(SAM).id}", 404),
}


# Text that runs past its card's edge: the page does not scroll, but the customer cannot read it.
SPILLS = """[...document.querySelectorAll(".card")]
  .filter(card => card.scrollWidth > card.clientWidth)
  .map(card => card.innerText.replace(/\\s+/g, " ").slice(0, 60))"""


def problems_at_each_width(page: Page, name: str) -> list[str]:
    """Serious or critical axe violations, sideways scrolling and spilling cards, at each
    width; screenshots of the whole page go to var/screenshots/<name>-<width>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    found = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        for violation in Axe().run(page).response["violations"]:
            if violation["impact"] in BLOCKING:
                targets = [node["target"] for node in violation["nodes"]]
                found.append(f"{width}px: {violation['id']} ({violation['impact']}) at {targets}")
        scroll_width, inner_width = page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]"
        )
        if scroll_width > inner_width:
            found.append(f"{width}px: scrolls sideways ({scroll_width}px > {inner_width}px)")
        for card in page.evaluate(SPILLS):
            found.append(f"{width}px: content spills out of the card {card!r}")
        page.screenshot(path=SCREENSHOTS / f"{name}-{width}.png", full_page=True)
    return found


@pytest.mark.parametrize("name", PAGES)
def test_every_page_is_accessible_and_fits_a_phone(
    name: str, site: Site, alex: Page, guest: Page
) -> None:
    page = PAGES[name](Visit(site, alex, guest))

    problems = problems_at_each_width(page, name)

    assert not problems, f"{name} ({page.url}):\n" + "\n".join(problems)


# --- what a customer may not see ---------------------------------------------------------------
def test_another_customers_invoice_is_not_found(site: Site, alex: Page) -> None:
    sams = site.newest_invoice(SAM)

    opened(alex, f"{site.url}/account/invoices/{sams.id}", 404)

    expect(alex.get_by_role("main")).to_contain_text("We could not find that.")
    expect(alex.get_by_role("main")).not_to_contain_text(sams.number)
    pdf = alex.request.get(f"{site.url}/account/invoices/{sams.id}/invoice.pdf")
    assert pdf.status == 404


def test_a_used_sign_in_link_is_no_longer_valid(site: Site, guest: Page) -> None:
    link = site.chat(ALEX, "open my account")["replies"][0]["link"]
    guest.goto(link)
    guest.get_by_role("button", name="Continue").click()
    expect(guest).to_have_url(f"{site.url}/account")

    opened(guest, link, 410)

    expect(guest.get_by_role("heading", name="Link no longer valid")).to_be_visible()
    expect(guest.get_by_text("This sign-in link was already used")).to_be_visible()
