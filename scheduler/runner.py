"""Start the in-process scheduler that runs billbot's periodic jobs."""

from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.services import Services

OUTBOX_INTERVAL_SECONDS = 15


async def deliver_outbox(services: Services) -> None:
    """Retry whatever the outbox still holds as queued."""
    await services.outbox.deliver_pending()


def start_scheduler(services: Services) -> AsyncIOScheduler:
    """Start the jobs on the running event loop; the caller shuts the scheduler down."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(
        deliver_outbox,
        "interval",
        seconds=OUTBOX_INTERVAL_SECONDS,
        args=[services],
        id="deliver_outbox",
        max_instances=1,
        coalesce=True,
    )
    scheduler.start()
    return scheduler
