"""FastAPI dependencies: settings, session, clock and the two roles.

Isolation is enforced here once: :data:`CurrentAgency` yields the :class:`~matcher_api.db.
AgencyScope` of the presented token, after checking that it belongs to the round in the path;
agency routes pass only that scope to the store.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from matcher_api import db
from matcher_api.cache import UploadCache
from matcher_api.errors import ForbiddenError, UnauthorizedError
from matcher_api.jobs import MatchRunner
from matcher_api.security import hash_token
from matcher_api.settings import Settings


@dataclass
class Services:
    """What a running app holds: settings, database, the match runner, the clock and the
    upload cache."""

    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    runner: MatchRunner
    clock: Callable[[], datetime]
    cache: UploadCache
    coordinator_hash: str
    generated_token: str | None = field(default=None, repr=False)
    # Uploads decoded and checked at once (created lazily, inside the event loop).
    upload_slots: asyncio.Semaphore | None = field(default=None, repr=False)

    def slots(self) -> asyncio.Semaphore:
        """The semaphore bounding concurrent upload validations."""
        if self.upload_slots is None:
            self.upload_slots = asyncio.Semaphore(self.settings.max_concurrent_uploads)
        return self.upload_slots


@dataclass(frozen=True)
class Coordinator:
    """The coordinator role (one per service)."""

    actor: str = db.COORDINATOR


def get_services(request: Request) -> Services:
    """The services of the app handling this request."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_app_settings(services: ServicesDep) -> Settings:
    """The settings the app was created with."""
    return services.settings


def get_session(services: ServicesDep) -> Iterator[Session]:
    """A database session for one request; routes commit what they change. Closing it after
    the response never raises: a connection the database dropped meanwhile is discarded."""
    session = services.factory()
    try:
        yield session
    finally:
        db.close_session(session)


def get_now(services: ServicesDep) -> datetime:
    """The current time (replaceable in tests through the app's clock)."""
    return services.clock()


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
NowDep = Annotated[datetime, Depends(get_now)]

bearer = HTTPBearer(
    auto_error=False,
    description="The coordinator token, or an agency's upload token for its round.",
)


def principal_of(
    services: Services, session: Session, credentials: HTTPAuthorizationCredentials | None
) -> Coordinator | db.AgencyScope:
    """Who presents ``credentials``: the coordinator or one agency of one round (401 if
    nobody known)."""
    if credentials is None or not credentials.credentials:
        raise UnauthorizedError("missing bearer token (send 'Authorization: Bearer <token>')")
    digest = hash_token(credentials.credentials)
    if hmac.compare_digest(digest, services.coordinator_hash):
        return Coordinator()
    agency = session.scalars(select(db.Agency).where(db.Agency.token_hash == digest)).first()
    if agency is None or not hmac.compare_digest(agency.token_hash, digest):
        raise UnauthorizedError("unknown or revoked token")
    return db.AgencyScope(round_id=agency.round_id, agency_id=agency.id, label=agency.label)


def get_principal(
    services: ServicesDep,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Coordinator | db.AgencyScope:
    """Who is calling: the coordinator or one agency of one round (401 if nobody known)."""
    return principal_of(services, session, credentials)


Principal = Annotated[Coordinator | db.AgencyScope, Depends(get_principal)]
RoundIdPath = Annotated[str, Path(min_length=1, max_length=64, examples=["sspf-2026-spring"])]


def current_coordinator(principal: Principal) -> Coordinator:
    """Require the coordinator token (403 for an agency token)."""
    if not isinstance(principal, Coordinator):
        raise ForbiddenError("this needs the coordinator token", reason="wrong_role")
    return principal


CurrentCoordinator = Annotated[Coordinator, Depends(current_coordinator)]


def coordinator_round(
    round_id: RoundIdPath, _: CurrentCoordinator, session: SessionDep, now: NowDep
) -> db.Round:
    """The live round in the path, for the coordinator (404 if absent, expired or purged)."""
    return db.get_round(session, round_id, now=now)


CoordinatorRound = Annotated[db.Round, Depends(coordinator_round)]


def agency_of(
    principal: Coordinator | db.AgencyScope, round_id: str, session: Session, now: datetime
) -> db.AgencyScope:
    """Require an agency token of the round ``round_id`` (403 otherwise): the isolation rule."""
    if not isinstance(principal, db.AgencyScope):
        raise ForbiddenError("this needs an agency token for the round", reason="wrong_role")
    if not hmac.compare_digest(principal.round_id.encode(), round_id.encode()):
        raise ForbiddenError("this token belongs to another round", reason="wrong_round")
    db.get_round(session, round_id, now=now)
    return principal


def current_agency(
    round_id: RoundIdPath, principal: Principal, session: SessionDep, now: NowDep
) -> db.AgencyScope:
    """Require an agency token of the round in the path (403 otherwise): the isolation rule."""
    return agency_of(principal, round_id, session, now)


def authenticate_agency(
    services: Services, credentials: HTTPAuthorizationCredentials | None, round_id: str
) -> db.AgencyScope:
    """The agency scope of ``credentials`` for ``round_id``, in a session of its own that is
    closed on return, so that no database connection is held while a request body streams in."""
    with services.factory() as session:
        return agency_of(
            principal_of(services, session, credentials), round_id, session, services.clock()
        )


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


CurrentAgency = Annotated[db.AgencyScope, Depends(current_agency)]
