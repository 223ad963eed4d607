"""The demo chat page in a real, headless Chromium (Debian's /usr/bin/chromium), end to end.

billbot runs as `billbot demo` in a child process on a free port with its own database. The
test needs Chromium: it skips on a laptop without it and fails in CI, which installs it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.servers import stop, wait_ready

CHROMIUM = Path("/usr/bin/chromium")
# Flags for a sandboxed machine without a network (see the machine notes in the README).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs Debian's chromium")
        pytest.skip("Debian's chromium is not installed")
    port = _free_port()
    database = tmp_path_factory.mktemp("browser") / "billbot.db"
    env = {**os.environ, "BILLBOT_DATABASE_URL": f"sqlite:///{database}", "BILLBOT_SCHEDULER": "0"}
    server = subprocess.Popen(
        [sys.executable, "-m", "bot", "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, server)
        yield url
    finally:
        stop(server)


def test_sam_checks_his_bill_and_pays_it_in_the_browser(base_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
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
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(base_url)
        page.get_by_role("button", name="Alex Rivera").click()
        page.get_by_label("Message").fill("menu")
        page.keyboard.press("Enter")
        expect(page.locator("button.option", has_text="Data and usage")).to_be_visible()
        page.get_by_label("Message").fill("5")
        page.keyboard.press("Enter")
        expect(page.locator(".msg.bot").last).to_contain_text("41.5 GB of 50 GB")
        browser.close()
