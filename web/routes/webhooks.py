"""The messaging providers' webhooks (DESIGN.md §5, a contract for the paths).

Each route is the same few steps over the channel seam (`bot.channel`): find the channel (404
when its credentials are not configured), verify the request (403, nothing stored or sent),
parse it (400 with the reason), hand it to the inbox (statuses, compliance, the engine; the
replies go out through the outbox), and answer with the channel's acknowledgement. When the
engine is still answering an earlier copy of a message the provider gets 503 with
Retry-After, and its retry gets the stored answer (docs/turns.md).
"""

from __future__ import annotations

from typing import Protocol

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse

from bot.channel import BadWebhook, Webhook, WebhookRejected, WebhookRequest
from bot.payments import WebhookSignatureError
from bot.payments.webhooks import apply_event
from web.deps import ServicesDep
from web.security import MAX_BODY_BYTES

router = APIRouter(prefix="/webhooks", tags=["webhooks"], include_in_schema=True)
FORBIDDEN = "The request's signature or secret is missing or wrong."
OFF = "This channel is not configured on this server."
TOO_LARGE = f"The request body is larger than {MAX_BODY_BYTES // 1024} KB."


class Subscribable(Protocol):
    """A channel whose provider checks the webhook URL first (Meta's verify challenge)."""

    def verify_challenge(self, query: list[tuple[str, str]]) -> str: ...


@router.post("/twilio/sms", summary="Twilio SMS inbound (form, X-Twilio-Signature)")
async def twilio_sms(request: Request, services: ServicesDep) -> Response:
    return await handle(request, services.channels.get("twilio_sms"), services)


@router.post("/twilio/whatsapp", summary="Twilio WhatsApp inbound (form, X-Twilio-Signature)")
async def twilio_whatsapp(request: Request, services: ServicesDep) -> Response:
    return await handle(request, services.channels.get("twilio_whatsapp"), services)


@router.post("/twilio/status", summary="Twilio delivery status callbacks")
async def twilio_status(request: Request, services: ServicesDep) -> Response:
    return await handle(request, services.channels.get("twilio_status"), services)


@router.get("/whatsapp", summary="Meta WhatsApp Cloud API verify challenge")
async def whatsapp_challenge(request: Request, services: ServicesDep) -> Response:
    channel = services.channels.get("whatsapp_cloud")
    if channel is None or not hasattr(channel, "verify_challenge"):
        raise HTTPException(404, OFF)
    subscribable: Subscribable = channel  # type: ignore[assignment]
    try:
        challenge = subscribable.verify_challenge(list(request.query_params.multi_items()))
    except WebhookRejected:
        raise HTTPException(403, FORBIDDEN) from None
    except BadWebhook as error:
        raise HTTPException(400, str(error)) from None
    return Response(challenge, media_type="text/plain")


@router.post("/whatsapp", summary="Meta WhatsApp Cloud API (X-Hub-Signature-256)")
async def whatsapp_cloud(request: Request, services: ServicesDep) -> Response:
    return await handle(request, services.channels.get("whatsapp_cloud"), services)


@router.post("/telegram", summary="Telegram updates (X-Telegram-Bot-Api-Secret-Token)")
async def telegram(request: Request, services: ServicesDep) -> Response:
    return await handle(request, services.channels.get("telegram"), services)


async def handle(request: Request, channel: Webhook | None, services: ServicesDep) -> Response:
    """Verify, parse, receive, acknowledge (see the module docstring)."""
    if channel is None:
        raise HTTPException(404, OFF)
    webhook = await webhook_request(request, services.settings.public_url)
    try:
        channel.verify(webhook)
    except WebhookRejected:
        raise HTTPException(403, FORBIDDEN) from None
    try:
        parsed = channel.parse(webhook)
    except BadWebhook as error:
        raise HTTPException(400, str(error)) from None
    received = await services.inbox.receive(channel, parsed)
    if received.retry_after is not None:
        retry = {"retry-after": str(int(received.retry_after))}
        raise HTTPException(503, "Still answering an earlier copy; retry.", headers=retry)
    ack = channel.acknowledge(parsed)
    return Response(ack.body, ack.status, dict(ack.headers), media_type=ack.media_type)


async def webhook_request(request: Request, public_url: str) -> WebhookRequest:
    """The request as the channel sees it; its URL as the provider called it (public)."""
    try:
        body = await request.body()
    except HTTPException as error:
        if error.status_code == 413:
            raise HTTPException(400, TOO_LARGE) from None
        raise
    query = request.url.query
    url = public_url + request.url.path + (f"?{query}" if query else "")
    return WebhookRequest(
        method=request.method,
        url=url,
        path=request.url.path,
        query=tuple(request.query_params.multi_items()),
        headers={name.lower(): value for name, value in request.headers.items()},
        body=body,
    )


@router.post("/stripe", summary="Stripe events (Stripe-Signature, construct_event)")
async def stripe_events(request: Request, services: ServicesDep) -> Response:
    """Verify (400 and nothing done when forged or stale), store, apply once; 200 for a replay."""
    if services.payments.name != "stripe":
        raise HTTPException(404, "Stripe is not configured on this server.")
    payload = await request.body()
    try:
        event = services.payments.parse_webhook(
            payload, request.headers.get("stripe-signature", "")
        )
    except WebhookSignatureError as error:
        raise HTTPException(400, f"Invalid Stripe webhook: {error}") from None
    applied = await apply_event(services, event)
    body = {
        "id": applied.event_id,
        "type": applied.type,
        "replayed": applied.replayed,
        "effect": applied.effect,
    }
    return JSONResponse(body)
