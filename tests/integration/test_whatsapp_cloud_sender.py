"""The WhatsApp Cloud API sender against a fake Graph API on 127.0.0.1, and its rendering."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot.channel_settings import ChannelSettings
from bot.outbox.ports import DeliveryError, SendContext
from bot.types import Option, Reply
from channels.whatsapp_cloud_sender import (
    BODY_MAX,
    TEXT_MAX,
    WhatsAppCloudSender,
    render,
    render_reply,
)
from tests.graph_fake import PHONE_NUMBER_ID, TOKEN, VERSION, GraphFake, graph_fake

ALEX = "+12025550101"
REPLY = SendContext(kind="reply", idempotency_key="outbox:1")
CLOSED = SendContext(kind="bar_notice", idempotency_key="outbox:2", window_open=False)
TEMPLATES = {"bar_notice": "billbot_bar_notice"}


@pytest.fixture
async def graph() -> AsyncIterator[GraphFake]:
    async with graph_fake() as fake:
        yield fake


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as http:
        yield http


def settings(base: str, **overrides: Any) -> ChannelSettings:
    values: dict[str, Any] = {
        "whatsapp_access_token": TOKEN,
        "whatsapp_app_secret": "app-secret",
        "whatsapp_verify_token": "verify-token",
        "whatsapp_phone_number_id": PHONE_NUMBER_ID,
        "meta_graph_base": base,
        "meta_graph_version": VERSION,
        "whatsapp_templates": TEMPLATES,
        "whatsapp_template_language": "es",
    }
    return ChannelSettings(**(values | overrides))


@pytest.fixture
def sender(graph: GraphFake, client: httpx.AsyncClient) -> WhatsAppCloudSender:
    return WhatsAppCloudSender(settings(graph.base_url), client=client)


def options(count: int) -> tuple[Option, ...]:
    return tuple(Option(f"Option {n}", f"value-{n}") for n in range(1, count + 1))


def sent(graph: GraphFake) -> list[dict[str, Any]]:
    """The messages the fake accepted, without the envelope every one of them carries."""
    envelope = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "12025550101",
    }
    assert all(body.items() >= envelope.items() for body in graph.requests)
    return [{k: v for k, v in body.items() if k not in envelope} for body in graph.requests]


def interactive_of(graph: GraphFake) -> dict[str, Any]:
    [message] = sent(graph)
    assert message["type"] == "interactive"
    found: dict[str, Any] = message["interactive"]
    return found


# --- session messages --------------------------------------------------------------------------
async def test_a_text_reply_is_sent_as_a_text_message(
    sender: WhatsAppCloudSender, graph: GraphFake
) -> None:
    message_id = await sender.send(ALEX, [Reply("You owe $64.20.")], context=REPLY)

    assert message_id == "wamid.FAKE0001"
    assert sent(graph) == [{"type": "text", "text": {"body": "You owe $64.20."}}]


async def test_up_to_three_options_become_reply_buttons_with_short_titles(
    sender: WhatsAppCloudSender, graph: GraphFake
) -> None:
    choices = (Option("Yes", "yes"), Option("Block the line right now", "bar"), Option("No", "no"))

    await sender.send(ALEX, [Reply("Block +1 202…0101?", options=choices)], context=REPLY)

    assert interactive_of(graph) == {
        "type": "button",
        "body": {"text": "Block +1 202…0101?"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
                {"type": "reply", "reply": {"id": "bar", "title": "Block the line…"}},
                {"type": "reply", "reply": {"id": "no", "title": "No"}},
            ]
        },
    }


async def test_five_options_become_a_list_with_one_section(
    sender: WhatsAppCloudSender, graph: GraphFake
) -> None:
    choices = (*options(4), Option("Jordan's line, +1 202-555-0103", "line:3"))

    await sender.send(ALEX, [Reply("Which line?", options=choices)], context=REPLY)

    listed = interactive_of(graph)
    assert (listed["type"], listed["body"], listed["action"]["button"]) == (
        "list",
        {"text": "Which line?"},
        "Choose",
    )
    [section] = listed["action"]["sections"]
    assert section["rows"][:4] == [
        {"id": f"value-{n}", "title": f"Option {n}"} for n in range(1, 5)
    ]
    assert section["rows"][4] == {
        "id": "line:3",
        "title": "Jordan's line, +1…",
        "description": "Jordan's line, +1 202-555-0103",
    }


async def test_twelve_options_become_numbered_lines_of_text(
    sender: WhatsAppCloudSender, graph: GraphFake
) -> None:
    await sender.send(ALEX, [Reply("What can I do?", options=options(12))], context=REPLY)

    [message] = sent(graph)
    numbered = "\n".join(f"{n}. Option {n}" for n in range(1, 13))
    assert message == {"type": "text", "text": {"body": f"What can I do?\n\n{numbered}"}}


async def test_a_link_goes_on_its_own_line_with_a_preview(
    sender: WhatsAppCloudSender, graph: GraphFake
) -> None:
    reply = Reply("Your bill is $64.20.", link="https://pay.example.test/p/abc", link_label="Pay")

    await sender.send(ALEX, [reply], context=REPLY)

    body = "Your bill is $64.20.\n\nPay:\nhttps://pay.example.test/p/abc"
    assert sent(graph) == [{"type": "text", "text": {"body": body, "preview_url": True}}]


async def test_an_image_is_sent_with_the_text_as_its_caption(
    sender: WhatsAppCloudSender, graph: GraphFake
) -> None:
    reply = Reply("Scan to pay $64.20", image_url="https://pay.example.test/qr/abc.png")

    await sender.send(ALEX, [reply], context=REPLY)

    image = {"link": "https://pay.example.test/qr/abc.png", "caption": "Scan to pay $64.20"}
    assert sent(graph) == [{"type": "image", "image": image}]


async def test_a_document_is_sent_with_its_file_name_and_the_text_as_caption(
    sender: WhatsAppCloudSender, graph: GraphFake
) -> None:
    reply = Reply(
        "Your March invoice",
        document_url="https://bot.example.test/invoices/t0k/INV-7.pdf",
        document_name="invoice-2025-03.pdf",
    )

    await sender.send(ALEX, [reply], context=REPLY)

    document = {
        "link": "https://bot.example.test/invoices/t0k/INV-7.pdf",
        "filename": "invoice-2025-03.pdf",
        "caption": "Your March invoice",
    }
    assert sent(graph) == [{"type": "document", "document": document}]


async def test_several_replies_go_in_order_and_the_last_message_id_is_returned(
    sender: WhatsAppCloudSender, graph: GraphFake
) -> None:
    replies = [Reply("One"), Reply("Two"), Reply("Three")]

    message_id = await sender.send(ALEX, replies, context=REPLY)

    assert [m["text"]["body"] for m in sent(graph)] == ["One", "Two", "Three"]
    assert message_id == "wamid.FAKE0003"


async def test_a_retry_after_a_partial_send_repeats_nothing_meta_accepted(
    sender: WhatsAppCloudSender, graph: GraphFake
) -> None:
    replies = [Reply("One"), Reply("Two"), Reply("Three")]
    row = SendContext(kind="reply", idempotency_key="outbox:7")
    graph.fail(500, after=1)  # "One" goes through, "Two" does not
    with pytest.raises(DeliveryError):
        await sender.send(ALEX, replies, context=row)

    message_id = await sender.send(ALEX, replies, context=row)

    assert [m["text"]["body"] for m in sent(graph)] == ["One", "Two", "Three"]
    assert message_id == "wamid.FAKE0003"


async def test_another_outbox_row_with_the_same_replies_is_sent_whole(
    sender: WhatsAppCloudSender, graph: GraphFake
) -> None:
    graph.fail(500, after=1)
    with pytest.raises(DeliveryError):
        await sender.send(ALEX, [Reply("One"), Reply("Two")], context=REPLY)

    await sender.send(ALEX, [Reply("One"), Reply("Two")], context=SendContext("reply", "other"))

    assert [m["text"]["body"] for m in sent(graph)] == ["One", "One", "Two"]


# --- outside the 24-hour window ----------------------------------------------------------------
async def test_outside_the_window_the_kinds_template_is_sent_in_its_language(
    sender: WhatsAppCloudSender, graph: GraphFake
) -> None:
    replies = [Reply("Your line +1 202…0101 is barred."), Reply("Reference:\nBAR-42")]

    await sender.send(ALEX, replies, context=CLOSED)

    parameter = {"type": "text", "text": "Your line +1 202…0101 is barred. Reference: BAR-42"}
    template = {
        "name": "billbot_bar_notice",
        "language": {"code": "es"},
        "components": [{"type": "body", "parameters": [parameter]}],
    }
    assert sent(graph) == [{"type": "template", "template": template}]


async def test_outside_the_window_the_catch_all_template_serves_other_kinds(
    graph: GraphFake, client: httpx.AsyncClient
) -> None:
    catch_all = WhatsAppCloudSender(
        settings(graph.base_url, whatsapp_templates={"*": "billbot_notice"}), client=client
    )

    await catch_all.send(ALEX, [Reply("Payment received.")], context=CLOSED)

    assert sent(graph)[0]["template"]["name"] == "billbot_notice"


async def test_outside_the_window_without_a_template_nothing_is_sent_and_it_is_permanent(
    sender: WhatsAppCloudSender, graph: GraphFake
) -> None:
    pin_locked = SendContext(kind="pin_locked", idempotency_key="k", window_open=False)

    with pytest.raises(DeliveryError, match="no template for kind 'pin_locked'") as error:
        await sender.send(ALEX, [Reply("Your PIN is locked.")], context=pin_locked)

    assert error.value.permanent and not error.value.unreachable
    assert graph.requests == graph.refused == []


# --- errors ------------------------------------------------------------------------------------
async def test_a_rate_limit_is_retried_after_the_time_meta_asks(
    sender: WhatsAppCloudSender, graph: GraphFake
) -> None:
    graph.fail(429, 130429, message="Rate limit hit", retry_after="30")

    with pytest.raises(DeliveryError, match="130429") as error:
        await sender.send(ALEX, [Reply("Hi")], context=REPLY)

    assert (error.value.permanent, error.value.retry_after) == (False, 30.0)


async def test_the_pair_rate_limit_waits_the_pair_pace_when_meta_gives_no_time(
    sender: WhatsAppCloudSender, graph: GraphFake
) -> None:
    graph.fail(400, 131056, message="(Business Account, Consumer Account) pair rate limit hit")

    with pytest.raises(DeliveryError) as error:
        await sender.send(ALEX, [Reply("Hi")], context=REPLY)

    assert (error.value.permanent, error.value.retry_after) == (False, 6.0)


async def test_a_closed_window_without_a_template_is_permanent(
    sender: WhatsAppCloudSender, graph: GraphFake
) -> None:
    graph.fail(400, 131047, message="Re-engagement message")

    with pytest.raises(DeliveryError, match="no template for kind 'reply'") as error:
        await sender.send(ALEX, [Reply("Hi")], context=REPLY)

    assert error.value.permanent and not error.value.unreachable


async def test_a_window_closed_while_waiting_falls_back_to_the_template(
    graph: GraphFake, client: httpx.AsyncClient
) -> None:
    sender = WhatsAppCloudSender(
        settings(graph.base_url, whatsapp_templates={"*": "billbot_reply"}), client=client
    )
    graph.fail(400, 131047, message="Re-engagement message")

    message_id = await sender.send(ALEX, [Reply("Your balance is $12.50.")], context=REPLY)

    assert message_id == "wamid.FAKE0001"
    assert sent(graph)[0]["template"]["name"] == "billbot_reply"


@pytest.mark.parametrize("code", [131026, 131050, 131021])
async def test_an_address_that_cannot_receive_is_unreachable(
    sender: WhatsAppCloudSender, graph: GraphFake, code: int
) -> None:
    graph.fail(400, code, message="Message undeliverable to +12025550101")

    with pytest.raises(DeliveryError) as error:
        await sender.send(ALEX, [Reply("Hi")], context=REPLY)

    assert error.value.unreachable and error.value.permanent
    assert "12025550101" not in error.value.reason


@pytest.mark.parametrize(
    ("status", "code"), [(500, None), (503, 2), (500, 131000), (400, 131000), (400, 133004)]
)
async def test_server_trouble_is_transient(
    sender: WhatsAppCloudSender, graph: GraphFake, status: int, code: int | None
) -> None:
    graph.fail(status, code)

    with pytest.raises(DeliveryError, match=f"HTTP {status}") as error:
        await sender.send(ALEX, [Reply("Hi")], context=REPLY)

    assert not error.value.permanent and error.value.retry_after is None


@pytest.mark.parametrize(("status", "code"), [(400, 100), (400, 131049), (403, 200), (404, None)])
async def test_other_refusals_are_permanent(
    sender: WhatsAppCloudSender, graph: GraphFake, status: int, code: int | None
) -> None:
    graph.fail(status, code)

    with pytest.raises(DeliveryError) as error:
        await sender.send(ALEX, [Reply("Hi")], context=REPLY)

    assert error.value.permanent and not error.value.unreachable


async def test_a_rejected_token_is_permanent_and_never_in_the_reason(
    graph: GraphFake, client: httpx.AsyncClient
) -> None:
    expired = WhatsAppCloudSender(
        settings(graph.base_url, whatsapp_access_token="EAAG-expired"), client=client
    )

    with pytest.raises(DeliveryError, match="190") as error:
        await expired.send(ALEX, [Reply("Hi")], context=REPLY)

    assert error.value.permanent
    assert "EAAG" not in error.value.reason and TOKEN not in error.value.reason


async def test_a_network_error_propagates_as_a_transient_failure(
    client: httpx.AsyncClient,
) -> None:
    with socket.socket() as spare:  # a port nobody listens on
        spare.bind(("127.0.0.1", 0))
        port = spare.getsockname()[1]
    unreachable = WhatsAppCloudSender(settings(f"http://127.0.0.1:{port}"), client=client)

    with pytest.raises(httpx.ConnectError):
        await unreachable.send(ALEX, [Reply("Hi")], context=REPLY)


async def test_an_address_that_is_not_a_phone_number_is_unreachable_and_masked(
    sender: WhatsAppCloudSender, graph: GraphFake
) -> None:
    with pytest.raises(DeliveryError) as error:
        await sender.send("chat:12025550101999", [Reply("Hi")], context=REPLY)

    assert error.value.unreachable and "12025550101999" not in error.value.reason
    assert graph.requests == []


async def test_empty_replies_are_a_permanent_failure(sender: WhatsAppCloudSender) -> None:
    with pytest.raises(DeliveryError, match="nothing to send") as error:
        await sender.send(ALEX, [Reply("  ")], context=REPLY)

    assert error.value.permanent


async def test_a_sender_without_a_client_makes_its_own_and_closes_it(graph: GraphFake) -> None:
    own = WhatsAppCloudSender(settings(graph.base_url))
    try:
        assert await own.send(ALEX, [Reply("Hi")], context=REPLY) == "wamid.FAKE0001"
    finally:
        await own.aclose()

    await own.aclose()  # twice is harmless


async def test_nothing_logged_carries_the_token_or_the_full_number(
    sender: WhatsAppCloudSender, graph: GraphFake, caplog: pytest.LogCaptureFixture
) -> None:
    graph.fail(400, 131026, message="Message undeliverable")
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(DeliveryError):
            await sender.send(ALEX, [Reply("Hi")], context=REPLY)
        await sender.send(ALEX, [Reply("Hi")], context=REPLY)

    assert "wamid.FAKE0001" in caplog.text
    assert TOKEN not in caplog.text and "12025550101" not in caplog.text


# --- rendering (pure) --------------------------------------------------------------------------
def test_a_long_text_is_split_at_line_breaks_within_the_text_limit() -> None:
    lines = [f"{n:05d} " + "x" * 93 for n in range(100)]  # 100 lines of 99 characters

    bodies = [m["text"]["body"] for m in render([Reply("\n".join(lines))])]

    assert len(bodies) == 3 and all(len(b) <= TEXT_MAX for b in bodies)
    assert "\n".join(bodies).split("\n") == lines


def test_a_long_question_keeps_its_buttons_and_sends_its_head_first() -> None:
    question = ("All about your bill. " * 80).strip() + "\nPay it now?"
    reply = Reply(question, options=(Option("Yes", "yes"), Option("No", "no")))

    head, last = render_reply(reply)

    body = last["interactive"]["body"]["text"]
    assert len(body) <= BODY_MAX and body.endswith("Pay it now?")
    assert head["type"] == "text" and f"{head['text']['body']} {body}" == question
    assert [b["reply"]["id"] for b in last["interactive"]["action"]["buttons"]] == ["yes", "no"]


def test_options_whose_values_are_too_long_for_ids_become_numbered_lines() -> None:
    reply = Reply("Pick one", options=(Option("A", "a" * 257), Option("B", "b")))

    [message] = render([reply])

    assert message["text"]["body"] == "Pick one\n\n1. A\n2. B"


def test_buttons_whose_titles_shorten_alike_become_a_list() -> None:
    twins = (Option("Jordan Lee's second line", "l2"), Option("Jordan Lee's second line 2", "l3"))

    [message] = render([Reply("Which?", options=twins)])

    rows = message["interactive"]["action"]["sections"][0]["rows"]
    assert message["interactive"]["type"] == "list" and [r["id"] for r in rows] == ["l2", "l3"]


def test_options_beside_media_send_the_media_first_without_a_caption() -> None:
    reply = Reply(
        "Pay now?",
        options=(Option("Yes", "yes"), Option("Later", "later")),
        image_url="https://example.test/qr.png",
        document_url="https://example.test/i/1.pdf",
        document_name="INV-1.pdf",
    )

    image, document, question = render([reply])

    assert image == {"type": "image", "image": {"link": "https://example.test/qr.png"}}
    assert document["document"] == {
        "link": "https://example.test/i/1.pdf",
        "filename": "INV-1.pdf",
    }
    assert question["interactive"]["body"] == {"text": "Pay now?"}


def test_a_long_caption_goes_first_as_text_and_the_rest_rides_on_the_image() -> None:
    reply = Reply("word " * 400, image_url="https://example.test/qr.png")

    text, image = render([reply])

    assert len(image["image"]["caption"]) <= BODY_MAX and text["type"] == "text"
