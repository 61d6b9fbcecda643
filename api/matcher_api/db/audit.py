"""The audit log: who did what and when, with counts and labels only."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    select,
)
from sqlalchemy.orm import Session

from matcher_api.db.models import AuditEvent


def record_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    round_id: str | None,
    now: datetime,
    **details: int | str,
) -> None:
    """Append an audit event (counts, labels, a round's terms) to the current transaction."""
    session.add(
        AuditEvent(
            at=now,
            actor=actor,
            action=action,
            round_id=round_id,
            details=json.dumps(details, sort_keys=True, ensure_ascii=False),
        )
    )


def list_audit(session: Session, *, round_id: str | None, limit: int) -> Sequence[AuditEvent]:
    """The newest audit events, optionally for one round."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if round_id is not None:
        query = query.where(AuditEvent.round_id == round_id)
    return session.scalars(query).all()
