"""The audit log: who did what to which entity, and when (append-only)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from billing_client.sql.models import AuditLog


def audit(
    session: AsyncSession,
    now: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: int | str,
    detail: str = "",
) -> None:
    """Add an entry to the caller's transaction."""
    session.add(
        AuditLog(
            at=now,
            actor=actor[:80],
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            detail=detail,
        )
    )
