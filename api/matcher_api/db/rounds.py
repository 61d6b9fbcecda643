"""Rounds, their agencies and tokens, the coordinator token, and purging a round."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Engine,
    delete,
    event,
    func,
    select,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from matcher_api.db.audit import record_audit
from matcher_api.db.engine import scrub_deleted, transaction, upload_cache
from matcher_api.db.followup import forget_published
from matcher_api.db.jobs import lock_round
from matcher_api.db.models import (
    COORDINATOR,
    COORDINATOR_TOKEN_KEY,
    ROUND_TABLES,
    SCRUB_PENDING_KEY,
    Agency,
    Base,
    Round,
    ServiceState,
    Upload,
)
from matcher_api.errors import ConflictError, NotFoundError
from matcher_api.faults import crash_point
from matcher_api.security import hash_token, new_token

logger = logging.getLogger("matcher_api.db")


def _round_table_names() -> list[str]:
    """Every table that holds rows of a round (those with a ``round_id``), and ``rounds``."""
    tables = Base.metadata.sorted_tables
    return [t.name for t in tables if "round_id" in t.c or t.name == "rounds"]


def _scrub_after_commit(session: Session) -> None:
    """Once the purge has committed, remove the deleted rows' bytes from the database files.

    The purge's transaction also sets a ``scrub_pending`` marker, cleared only when its scrub
    has succeeded, so that a service killed between the commit and the scrub scrubs at its next
    start (:func:`finish_pending_scrub`). A failure is logged in one line (the purge itself
    stands) and retried by the next purge or start.
    """
    engine: Engine = session.get_bind()  # type: ignore[assignment]
    marker = secrets.token_hex(8)
    session.merge(ServiceState(key=SCRUB_PENDING_KEY, value=marker))

    def scrub(_: Session) -> None:
        crash_point("purge.before_scrub")
        _scrub(engine, marker)

    event.listen(session, "after_commit", scrub, once=True)


def _scrub(engine: Engine, marker: str | None) -> None:
    """Scrub the deleted rows' bytes; then clear the pending marker if it is still ``marker``
    (a later purge's marker stays until that purge's own scrub)."""
    try:
        if not scrub_deleted(engine, _round_table_names()):
            logger.warning("purge: the database log could not be truncated yet (busy)")
            return
        with engine.begin() as connection:
            pending = delete(ServiceState).where(ServiceState.key == SCRUB_PENDING_KEY)
            if marker is not None:
                pending = pending.where(ServiceState.value == marker)
            connection.execute(pending)
    except SQLAlchemyError as exc:
        logger.warning("purge: scrubbing deleted rows failed (%s)", type(exc).__name__)


def finish_pending_scrub(factory: sessionmaker[Session]) -> bool:
    """At start-up: scrub the files if a purge committed but its scrub never ran (the service
    was stopped in between); True if one was pending."""
    with factory() as session:
        pending = session.get(ServiceState, SCRUB_PENDING_KEY) is not None
        engine: Engine = session.get_bind()  # type: ignore[assignment]
    if pending:
        _scrub(engine, None)
    return pending


def stored_coordinator_hash(session: Session) -> str | None:
    """The digest of a generated coordinator token, if one was generated."""
    state = session.get(ServiceState, COORDINATOR_TOKEN_KEY)
    return None if state is None else state.value


def ensure_coordinator_token(
    session: Session, *, configured: bool, rotate: bool = False
) -> str | None:
    """Generate and store (hashed) a coordinator token if none exists; return it once, else None."""
    if configured:
        return None
    state = session.get(ServiceState, COORDINATOR_TOKEN_KEY)
    if state is not None and not rotate:
        return None
    token = new_token()
    if state is None:
        session.add(ServiceState(key=COORDINATOR_TOKEN_KEY, value=hash_token(token)))
    else:
        state.value = hash_token(token)
    return token


def create_round(
    session: Session,
    *,
    round_id: str,
    name: str,
    legal_basis: str,
    k: int,
    window_from: date | None,
    window_to: date | None,
    disclosure_policy: str,
    retention_days: int,
    agencies: Sequence[str],
    now: datetime,
    kind: str = "signals",
    max_list_rows: int | None = None,
    window_dates_required: bool = False,
) -> tuple[Round, dict[str, str]]:
    """Create a round and one upload token per agency; the plain tokens are returned once."""
    if session.get(Round, round_id) is not None:
        raise ConflictError("a round with this id already exists", reason="round_exists")
    row = Round(
        id=round_id,
        name=name,
        legal_basis=legal_basis,
        k=k,
        window_from=window_from,
        window_to=window_to,
        disclosure_policy=disclosure_policy,
        kind=kind,
        retention_days=retention_days,
        created_at=now,
        expires_at=now + timedelta(days=retention_days),
        max_list_rows=max_list_rows,
        window_dates_required=window_dates_required,
    )
    session.add(row)
    session.flush()
    tokens: dict[str, str] = {}
    for label in agencies:
        token = new_token()
        tokens[label] = token
        session.add(Agency(round_id=round_id, label=label, token_hash=hash_token(token)))
    session.flush()
    record_audit(
        session,
        actor=COORDINATOR,
        action="round.create",
        round_id=round_id,
        now=now,
        agencies=len(agencies),
        k=k,
        policy=disclosure_policy,
        kind=kind,
        legal_basis=legal_basis,
        retention_days=retention_days,
        max_list_rows=max_list_rows if max_list_rows is not None else "none",
    )
    return row, tokens


KIND_REFUSALS = {
    "signals": "this is a signal round: it has cases, not an analysis; open an analysis round",
    "analysis": "this is an analysis round: it returns aggregated statistics only, never a case "
    "list or a match (POST /rounds/{id}/analysis)",
}


def require_kind(round_row: Round, kind: str) -> None:
    """Refuse (409) what a round of another kind does not do: an analysis round never matches
    into cases or gives out a case list, to anyone; a signal round is not analysed."""
    if round_row.kind != kind:
        raise ConflictError(KIND_REFUSALS[round_row.kind], reason=f"{round_row.kind}_round")


def get_round(session: Session, round_id: str, *, now: datetime) -> Round:
    """A live round; an expired one is purged on the spot (committed) and reported as not found."""
    row = session.get(Round, round_id)
    if row is not None and row.expires_at <= now:
        purge_round(session, round_id, actor="service", action="round.expire", now=now)
        session.commit()
        row = None
    if row is None:
        raise NotFoundError("no such round (it may have expired or been purged)")
    return row


def list_rounds(session: Session) -> Sequence[Round]:
    """All rounds, newest first."""
    return session.scalars(select(Round).order_by(Round.created_at.desc(), Round.id)).all()


def round_agencies(session: Session, round_id: str) -> Sequence[Agency]:
    """The agencies of a round, by label."""
    return session.scalars(
        select(Agency).where(Agency.round_id == round_id).order_by(Agency.label)
    ).all()


def reissue_agency_token(session: Session, round_id: str, label: str, *, now: datetime) -> str:
    """Replace an agency's upload token (the old one stops working); return the new one once."""
    agency = session.scalars(
        select(Agency).where(Agency.round_id == round_id, Agency.label == label)
    ).first()
    if agency is None:
        raise NotFoundError("no agency with this label takes part in the round")
    token = new_token()
    agency.token_hash = hash_token(token)
    record_audit(session, actor=COORDINATOR, action="token.reissue", round_id=round_id, now=now)
    return token


def round_row_counts(session: Session, round_id: str) -> dict[str, int]:
    """How many rows each round-owned table holds for a round (used by purge and tests)."""
    counts: dict[str, int] = {}
    tables: tuple[Any, ...] = (*ROUND_TABLES, Round)
    for table in tables:
        column = table.id if table is Round else table.round_id
        counts[table.__tablename__] = (
            session.scalar(select(func.count()).select_from(table).where(column == round_id)) or 0
        )
    return counts


def purge_round(
    session: Session, round_id: str, *, actor: str, action: str, now: datetime
) -> dict[str, int]:
    """Delete a round and everything it owns (uploads, results, jobs, tokens) and the parsed
    copies of its uploads; audit it."""
    lock_round(session, round_id)  # first, like an upload and a match's results (no deadlock)
    cached = session.scalars(select(Upload.cache_key).where(Upload.round_id == round_id)).all()
    deleted: dict[str, int] = {}
    for table in ROUND_TABLES:
        result = session.execute(delete(table).where(table.round_id == round_id))  # type: ignore[attr-defined]
        deleted[table.__tablename__] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    result = session.execute(delete(Round).where(Round.id == round_id))
    deleted["rounds"] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    deleted["published_cells"] = forget_published(session, round_id)
    record_audit(
        session,
        actor=actor,
        action=action,
        round_id=round_id,
        now=now,
        uploads=deleted["uploads"],
        results=deleted["agency_results"] + deleted["round_results"],
    )
    # Before the commit: should it fail, the uploads are still in the database and are
    # decoded from there; the parsed copies must not outlive a purge.
    cache = upload_cache(session)
    if cache is not None:
        cache.remove(cached)
    _scrub_after_commit(session)
    crash_point("purge.before_commit")
    return deleted


def purge_expired(factory: sessionmaker[Session], *, now: datetime) -> list[str]:
    """Purge every round past its retention period, each in its own transaction."""
    with factory() as session:
        expired = session.scalars(select(Round.id).where(Round.expires_at <= now)).all()
    for round_id in expired:
        with transaction(factory) as session:
            purge_round(session, round_id, actor="service", action="round.expire", now=now)
    return list(expired)
