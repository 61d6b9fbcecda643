"""Service-level endpoints: health, the audit log, purging expired rounds."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import text

from matcher import __version__
from matcher_api import db, views
from matcher_api.deps import CurrentCoordinator, NowDep, ServicesDep, SessionDep
from matcher_api.schemas import AuditPublic, HealthPublic, PurgePublic

router = APIRouter(tags=["admin"])


@router.get("/health")
def health(session: SessionDep) -> HealthPublic:
    """Liveness: the service answers and its database is reachable."""
    session.execute(text("SELECT 1"))
    return HealthPublic(version=__version__)


@router.get("/audit")
def audit_log(
    _: CurrentCoordinator,
    session: SessionDep,
    round_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> AuditPublic:
    """The newest audit events (who, what, which round, when, counts), optionally for one round."""
    events = db.list_audit(session, round_id=round_id, limit=limit)
    return AuditPublic(events=[views.audit_public(e) for e in events])


@router.post("/admin/purge-expired")
def purge_expired(_: CurrentCoordinator, services: ServicesDep, now: NowDep) -> PurgePublic:
    """Purge every round past its retention period now (the service also does this itself)."""
    purged = db.purge_expired(services.factory, now=now)
    return PurgePublic(round_ids=purged, deleted_rows={"rounds": len(purged)})
