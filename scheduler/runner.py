"""Start the in-process scheduler that runs billbot's periodic jobs.

Outbound delivery is not a scheduled job: the outbox worker (`bot.outbox.OutboxWorker`, run by
the web app's lifespan in every serving process) is woken after each commit and polls for
retries itself. The scheduler runs once per deployment; the alert jobs are added here.
"""

from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.services import Services


def start_scheduler(services: Services) -> AsyncIOScheduler:
    """Start the jobs on the running event loop; the caller shuts the scheduler down."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.start()
    return scheduler
