"""The demo chat page in a real, headless Chromium (Debian's /usr/bin/chromium), end to end.

billbot runs as `billbot demo` in a child process on a free port with its own database. The
test needs Chromium: it skips on a laptop without it and fails in CI, which installs it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.browser import billbot_demo, launch_chromium, require_chromium


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    with billbot_demo(tmp_path_factory.mktemp("browser") / "billbot.db", {}) as url:
        yield url


def test_sam_checks_his_bill_and_pays_it_in_the_browser(base_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(base_url)
        expect(page.get_by_text("DEMO MODE")).to_be_visible()
        page.get_by_role("button", name="Sam Lee").click()

        page.get_by_label("Message").fill("what do i owe")
        page.keyboard.press("Enter")
        expect(page.locator(".msg.bot").last).to_contain_text("$118.45")

        page.locator("button.option", has_text="Pay now").click()
        link = page.locator("a.reply-link").last
        expect(link).to_contain_text("Pay $118.45")

        pay_url = link.get_attribute("href")
        assert pay_url is not None
        page.goto(pay_url)
        expect(page.get_by_text("$118.45").first).to_be_visible()
        page.get_by_role("button", name="Pay now").click()
        expect(page.get_by_text("Paid").first).to_be_visible()

        page.goto(base_url)
        page.get_by_role("button", name="Sam Lee").click()
        page.get_by_label("Message").fill("balance")
        page.keyboard.press("Enter")
        expect(page.locator(".msg.bot").last).to_contain_text("nothing to pay")
        browser.close()


def test_typing_a_number_answers_the_last_question(base_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page()
        page.goto(base_url)
        page.get_by_role("button", name="Alex Rivera").click()
        page.get_by_label("Message").fill("menu")
        page.keyboard.press("Enter")
        usage = page.locator("button.option", has_text="Data and usage")
        expect(usage).to_be_visible()
        number = usage.inner_text().split(".")[0].strip()  # the menu numbers its entries
        page.get_by_label("Message").fill(number)
        page.keyboard.press("Enter")
        expect(page.locator(".msg.bot").last).to_contain_text("41.5 GB of 50 GB")
        browser.close()
