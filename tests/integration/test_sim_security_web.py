"""The ways in that are not a chat, over the demo data: the one-tap "Not me" page
(`/security/not-me/{token}`, SQLite and PostgreSQL), `billbot port-out` and `billbot sims` (a
demo SQLite database seeded by the command), and the billing system's signed `port_out.requested`
and `sim.activated` events."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from bot.bootstrap import build_services
from bot.cli import main
from bot.clock import FakeClock
from bot.nlu import NluModel
from bot.services import Services
from tests.helpers import client_for
from tests.integration.test_account_flows import ALEX, MARIA, line_of, say
from tests.integration.test_events import body_of, event_settings, post
from tests.integration.test_sim_security_flows import (
    account_id,
    fraud_tickets,
    locked,
    notices,
    notified,
    place_order,
    sim_orders,
    transfers,
)

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
CARRIER = "Other Mobile"
ALEX_CHANNELS = {("email", "alex.rivera@example.com"), ("sms", ALEX)}


@pytest.fixture
async def services(
    demo_db_url: str, clock: FakeClock, nlu_model: NluModel
) -> AsyncIterator[Services]:
    """Demo services on each backend that also take signed billing events."""
    built = await build_services(event_settings(demo_db_url), clock=clock, nlu=nlu_model)
    yield built
    await built.close()


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(services) as http:
        yield http


async def requested(services: Services, msisdn: str = ALEX) -> str:
    """A transfer request from another provider; the path of its notice's "Not me" link."""
    assert services.security is not None
    transfer = await services.security.request_port_out(msisdn, CARRIER, source_id="po-1")
    return await link_path(services, transfer.reference)


async def link_path(services: Services, reference: str) -> str:
    """The path of the "Not me" link in the notices about `reference` (the same in each)."""
    links = {
        reply.link
        for entry in await notices(services)
        for reply in entry.replies
        if reference in reply.text
    }
    (link,) = links
    assert link is not None
    return urlsplit(link).path


async def csrf_of(client: httpx.AsyncClient, path: str) -> str:
    page = await client.get(path)
    found = CSRF.search(page.text)
    assert found is not None, f"{path}: {page.status_code} {page.text[:300]}"
    return found.group(1)


async def nothing_stopped(services: Services, msisdn: str = ALEX) -> None:
    """The transfer still waits, the lock is off, no fraud case, no "Not me" audited."""
    assert [t.status for t in await transfers(services, msisdn)] == ["pending"]
    assert not await locked(services, msisdn)
    assert await fraud_tickets(services, msisdn) == []
    assert "not_me" not in [e.action for e in await services.billing.list_audit()]


# --- the "Not me" page ------------------------------------------------------------------------
async def test_opening_the_link_shows_a_button_and_changes_nothing(
    client: httpx.AsyncClient, services: Services
) -> None:
    path = await requested(services)
    page = await client.get(path)
    assert page.status_code == 200
    assert "This wasn&#39;t me" in page.text or "This wasn't me" in page.text
    assert "If you did not ask for PO-000001" in page.text
    assert f'action="{path}"' in page.text and "Stop it: this wasn" in page.text
    await nothing_stopped(services)


async def test_posting_without_the_form_token_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, services: Services
) -> None:
    path = await requested(services)
    await client.get(path)  # the browser has its cookie; the form token is what's missing
    bare = await client.post(path)
    wrong = await client.post(path, data={"csrf": "not-the-token"})
    assert (bare.status_code, wrong.status_code) == (403, 403)
    await nothing_stopped(services)


async def test_pressing_the_button_stops_the_request_locks_and_opens_a_fraud_case(
    client: httpx.AsyncClient, services: Services
) -> None:
    path = await requested(services)
    done = await client.post(path, data={"csrf": await csrf_of(client, path)})
    assert done.status_code == 200
    (ticket,) = await fraud_tickets(services, ALEX)
    assert "I&#39;ve stopped PO-000001." in done.text or "I've stopped PO-000001." in done.text
    assert f"Fraud case {ticket} is open" in done.text
    assert "call you on +1 202-555-0101" in done.text
    (transfer,) = await transfers(services, ALEX)
    assert (transfer.status, transfer.reason) == ("cancelled", "not_me")
    assert await locked(services, ALEX)
    (entry,) = [e for e in await services.billing.list_audit() if e.action == "not_me"]
    assert (entry.actor, entry.detail) == ("customer:not_me_link", "PO-000001: PO-000001")


async def test_pressing_it_twice_or_after_not_me_in_chat_keeps_one_fraud_case(
    client: httpx.AsyncClient, services: Services
) -> None:
    path = await requested(services)
    in_chat = await say(services, "not me", ALEX)
    (ticket,) = await fraud_tickets(services, ALEX)
    assert f"Fraud case {ticket}" in in_chat
    answers = [
        await client.post(path, data={"csrf": await csrf_of(client, path)}) for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [200, 200]
    assert all(f"Fraud case {ticket} is open" in a.text for a in answers)
    assert await fraud_tickets(services, ALEX) == [ticket]
    assert [t.status for t in await transfers(services, ALEX)] == ["cancelled"]
    audited = [e.action for e in await services.billing.list_audit()]
    assert audited.count("port_out_cancelled") == 1 and audited.count("lock_on") == 1


async def test_maria_reads_the_page_and_its_answer_in_spanish(
    client: httpx.AsyncClient, services: Services
) -> None:
    order = await place_order(services, MARIA)
    path = urlsplit(
        services.links.not_me_url(await account_id(services, MARIA), order.reference)
    ).path
    page = await client.get(path)
    assert "No he sido yo" in page.text and f"Si no has pedido {order.reference}" in page.text
    done = await client.post(path, data={"csrf": CSRF.findall(page.text)[0]})
    assert done.status_code == 200
    assert f"Gracias por avisarnos. He parado {order.reference}." in done.text
    assert "nuestro equipo de fraude te llamará al +1 202-555-0104" in done.text
    (cancelled,) = await sim_orders(services, MARIA)
    assert cancelled.status == "cancelled"


async def test_the_link_of_a_lock_off_notice_turns_the_lock_back_on(
    client: httpx.AsyncClient, services: Services
) -> None:
    owner = await account_id(services, ALEX)
    path = urlsplit(services.links.not_me_url(owner, "L-202503141530")).path
    done = await client.post(path, data={"csrf": await csrf_of(client, path)})
    assert done.status_code == 200 and "now locked on your account" in done.text
    assert await locked(services, ALEX)
    assert len(await fraud_tickets(services, ALEX)) == 1


async def test_the_link_of_a_completed_transfer_hands_it_to_the_fraud_team(
    client: httpx.AsyncClient, services: Services
) -> None:
    path = await requested(services)
    now = services.clock.now()
    await services.billing.decide_port_out("PO-000001", "approved", actor="x", now=now)
    await services.billing.decide_port_out("PO-000001", "completed", actor="billing", now=now)
    done = await client.post(path, data={"csrf": await csrf_of(client, path)})
    assert done.status_code == 200
    assert "PO-000001 had already gone through" in done.text
    assert "contact you at alex.rivera@example.com" in done.text  # no line of his left
    assert [t.status for t in await transfers(services, ALEX)] == ["completed"]


class SignedLongAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 8 * 24 * 3600  # a notice from 8 days ago


async def test_a_forged_or_expired_link_is_an_error_page_and_changes_nothing(
    client: httpx.AsyncClient, services: Services
) -> None:
    path = await requested(services)
    csrf = await csrf_of(client, path)
    old = URLSafeTimedSerializer(
        services.settings.secret_key, salt="billbot.not-me", signer=SignedLongAgo
    )
    expired = f"/security/not-me/{old.dumps([await account_id(services, ALEX), 'PO-000001'])}"
    forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    for bad, status, says in ((forged, 404, "not valid"), (expired, 410, "expired")):
        shown = await client.get(bad)
        pressed = await client.post(bad, data={"csrf": csrf})
        assert (shown.status_code, pressed.status_code) == (status, status), bad
        assert says in shown.text and 'name="csrf"' not in shown.text
    await nothing_stopped(services)


# --- billbot port-out / sims ------------------------------------------------------------------
def billbot(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> tuple[str, str]:
    """Run `billbot ARGS` in-process: (stdout, stderr), after checking the exit code."""
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    assert exited.value.code == code, (out, err)
    return out, err


@pytest.fixture
def cli_db(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Path:
    """A demo SQLite database seeded by `billbot db seed-demo`, the CLI's environment on it."""
    database = tmp_path / "billbot.db"
    for name in [key for key in os.environ if key.startswith("BILLBOT_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("BILLBOT_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("BILLBOT_SECRET_KEY", "cli-sim-security-secret-0123456789")
    monkeypatch.setenv("BILLBOT_SCHEDULER", "false")
    monkeypatch.setenv("BILLBOT_ENV_FILE", str(tmp_path / "no.env"))
    billbot(capsys, "db", "seed-demo")
    return database


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_a_transfer_request_from_the_cli_waits_and_tells_the_holder(
    cli_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, _ = billbot(capsys, "port-out", "request", "+1 202 555 0101", "--carrier", CARRIER)
    assert re.match(r"PO-000001 \+12025550101 to Other Mobile: pending \(requested ", out)

    messages: list[dict[str, Any]] = json.loads(billbot(capsys, "messages", "--json")[0])
    told = [m for m in messages if m["kind"] == "security_notice"]
    assert {(m["channel"], m["recipient"]) for m in told} == ALEX_CHANNELS
    for message in told:
        assert (
            "Other Mobile asked to move your number +1 202-555-0101 to them (PO-000001)"
            in (message["body"])
        )
        (reply,) = message["replies"]
        assert "/security/not-me/" in reply["link"]


def test_the_cli_refuses_a_bad_phone_number_with_one_line(
    cli_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, err = billbot(capsys, "port-out", "request", "not-a-phone", "--carrier", CARRIER, code=2)
    assert out == "" and "not a phone number" in one_error_line(err)
    assert transfer_rows(cli_db) == []


def test_the_cli_lists_open_transfers_and_completes_only_approved_ones(
    cli_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    billbot(capsys, "port-out", "request", "+12025550101", "--carrier", CARRIER, "--id", "r1")
    listed, _ = billbot(capsys, "port-out", "list")
    assert listed.count("PO-") == 1 and "PO-000001 +12025550101 to Other Mobile: pending" in listed
    out, err = billbot(capsys, "port-out", "complete", "PO-000001", code=2)
    assert out == "" and "has not approved it" in one_error_line(err)
    assert transfer_rows(cli_db) == [("pending", "r1")]


def test_activating_an_unknown_sim_order_exits_2_with_one_line(
    cli_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, err = billbot(capsys, "sims", "activate", "S-000404", code=2)
    assert out == "" and "S-000404" in one_error_line(err)


def transfer_rows(database: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT status, source_id FROM port_out_requests").fetchall()
    return [(str(status), str(source)) for status, source in rows]


# --- the billing system's events --------------------------------------------------------------
def answer_of(response: httpx.Response) -> dict[str, Any]:
    """The event's outcome, without the echoed id and type."""
    return {k: v for k, v in response.json().items() if k not in ("id", "type")}


async def test_a_signed_transfer_event_records_one_pending_request_and_tells_the_holder(
    client: httpx.AsyncClient, services: Services, clock: FakeClock
) -> None:
    data = {"request": "GAIN-42", "msisdn": ALEX, "carrier": CARRIER}
    first = await post(client, clock, body_of("evt_po1", "port_out.requested", data))
    assert first.status_code == 200, first.text
    assert answer_of(first) == {"transfer": "PO-000001", "status": "pending", "replayed": False}
    told = await notices(services)
    assert await notified(services) == ALEX_CHANNELS and len(told) == 2
    assert all(reply.link for entry in told for reply in entry.replies)

    replayed = await post(client, clock, body_of("evt_po1", "port_out.requested", data))
    resent = await post(client, clock, body_of("evt_po1-again", "port_out.requested", data))
    assert answer_of(replayed) == {**answer_of(first), "replayed": True}
    assert resent.status_code == 200 and resent.json()["transfer"] == "PO-000001"
    assert len(await transfers(services, ALEX)) == 1
    assert len(await notices(services)) == 2


async def test_a_transfer_event_for_a_locked_account_is_refused_and_the_holder_told(
    client: httpx.AsyncClient, services: Services, clock: FakeClock
) -> None:
    await services.billing.set_security_lock(
        await account_id(services, ALEX), True, actor="test", now=clock.now()
    )
    data = {"request": "GAIN-43", "msisdn": ALEX, "carrier": CARRIER}
    answer = await post(client, clock, body_of("evt_po2", "port_out.requested", data))
    assert answer.status_code == 200 and answer.json()["status"] == "refused"
    assert all("we refused Other Mobile's request" in e.text for e in await notices(services))
    assert await notified(services) == ALEX_CHANNELS


async def test_a_transfer_event_for_a_number_not_served_here_is_refused(
    client: httpx.AsyncClient, services: Services, clock: FakeClock
) -> None:
    data = {"request": "GAIN-44", "msisdn": "+12025559999", "carrier": CARRIER}
    answer = await post(client, clock, body_of("evt_po3", "port_out.requested", data))
    assert answer.status_code == 422, answer.text
    assert await services.billing.list_port_outs() == []
    assert await notices(services) == []


async def test_a_sim_activated_event_swaps_the_sim_once(
    client: httpx.AsyncClient, services: Services, clock: FakeClock
) -> None:
    order = await place_order(services, ALEX)
    old = (await line_of(services, ALEX)).iccid
    data = {"order": order.reference, "iccid": "8901260000000000777"}
    answer = await post(client, clock, body_of("evt_sim1", "sim.activated", data))
    assert answer.status_code == 200, answer.text
    assert answer_of(answer) == {"order": order.reference, "status": "active", "replayed": False}
    assert (await line_of(services, ALEX)).iccid == "8901260000000000777" != old
    assert await notified(services) == ALEX_CHANNELS
    assert all("a new SIM is now active" in e.text for e in await notices(services))

    again = await post(client, clock, body_of("evt_sim2", "sim.activated", data))
    assert again.status_code == 200 and again.json()["status"] == "active"
    assert len(await notices(services)) == 2
    audited = [e.action for e in await services.billing.list_audit()]
    assert audited.count("sim_activated") == 1


async def test_a_sim_activated_event_for_a_cancelled_order_is_refused(
    client: httpx.AsyncClient, services: Services, clock: FakeClock
) -> None:
    order = await place_order(services, ALEX)
    await services.billing.cancel_sim_order(
        order.reference, reason="test", actor="test", now=clock.now()
    )
    data = {"order": order.reference}
    answer = await post(client, clock, body_of("evt_sim3", "sim.activated", data))
    assert answer.status_code == 422, answer.text
    assert await notices(services) == []
