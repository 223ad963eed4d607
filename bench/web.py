"""The web view's page weight and server time: dashboard, invoice page and invoice PDF, each
over 100 sequential requests next to `/healthz` in the same run (the ratio is the figure; the
milliseconds depend on the machine).

    python -m bench.web [--requests 100]

Runs `billbot demo` on a fresh SQLite database in a child process, signs in as Alex with a
sign-in link (the secret is the run's own), and measures over loopback with one keep-alive
client. Page weight is the HTML plus every stylesheet, script and image it references.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from bench.servers import stop, wait_ready
from bot.links import LinkSigner

ASSETS = re.compile(r'(?:href|src)="(/(?:static|brand)[^"]*)"')
PAGES = {
    "dashboard": "/account",
    "invoice": "/account/invoices/{invoice}",
    "invoice PDF (again: cached)": "/account/invoices/{invoice}/invoice.pdf",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    secret = secrets.token_urlsafe(32)
    with (
        tempfile.TemporaryDirectory() as folder,
        served(Path(folder), secret) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        sign_in(client, url, secret)
        report(client, args.requests)


def served(folder: Path, secret: str) -> _Served:
    return _Served(folder, secret)


class _Served:
    def __init__(self, folder: Path, secret: str) -> None:
        self.folder, self.secret = folder, secret
        self.child: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> str:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        env = {
            **os.environ,
            "BILLBOT_DATABASE_URL": f"sqlite:///{self.folder / 'web.db'}",
            "BILLBOT_SECRET_KEY": self.secret,
            "BILLBOT_SCHEDULER": "0",
            "BILLBOT_LOG_LEVEL": "WARNING",
        }
        self.child = subprocess.Popen(
            [sys.executable, "-m", "bot", "demo", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, self.child)
        return url

    def __exit__(self, *exc: object) -> None:
        if self.child is not None:
            stop(self.child)


def sign_in(client: httpx.Client, url: str, secret: str) -> None:
    """Alex is account 1 in the demo data; the link is the one chat would send."""
    path = urlsplit(LinkSigner(secret, url).login_url(1)).path
    page = client.get(path)
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None, page.text[:300]
    client.post(path, data={"csrf": token.group(1)})
    assert client.get("/account").status_code == 200


def report(client: httpx.Client, count: int) -> None:
    invoices = re.findall(r'href="/account/invoices/(\d+)"', client.get("/account/invoices").text)
    assert invoices
    invoice = invoices[0]
    first = first_pdf_ms(client, invoices)  # before any is cached
    base = median_ms(client, "/healthz", count)
    print(f"/healthz: median {base:.2f} ms over {count} requests")
    print("| page | weight (HTML + assets) | median | × /healthz |")
    print("|---|---|---|---|")
    for name, template in PAGES.items():
        path = template.format(invoice=invoice)
        took = median_ms(client, path, count)
        print(
            f"| {name} | {weight(client, path) / 1024:.1f} KB | {took:.2f} ms | "
            f"{took / base:.1f}× |"
        )
    print(
        f"| invoice PDF, first time (not cached; median of {len(invoices)}) | | "
        f"{first:.2f} ms | {first / base:.1f}× |"
    )


def first_pdf_ms(client: httpx.Client, invoices: list[str]) -> float:
    times = []
    for invoice in invoices:
        start = time.perf_counter()
        assert client.get(f"/account/invoices/{invoice}/invoice.pdf").status_code == 200
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def median_ms(client: httpx.Client, path: str, count: int) -> float:
    client.get(path)  # warm: templates compiled, fonts loaded
    times = []
    for _ in range(count):
        start = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return statistics.median(times)


def weight(client: httpx.Client, path: str) -> int:
    response = client.get(path)
    total = len(response.content)
    if response.headers["content-type"].startswith("text/html"):
        for asset in dict.fromkeys(ASSETS.findall(response.text)):
            total += len(client.get(asset).content)
    return total


if __name__ == "__main__":
    main()
