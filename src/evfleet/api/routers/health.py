"""``/health``: whether the service and its database answer (no credentials needed)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import text

from evfleet.api.deps import DbSession, Services, get_services
from evfleet.api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="Service and database health")
def health(session: DbSession, services: Annotated[Services, Depends(get_services)]) -> Health:
    """``ok`` with the database kind and schema revision (a database error is a 500)."""
    revision = session.scalar(text("SELECT version_num FROM alembic_version"))
    return Health(status="ok", database=services.db.dialect, revision=revision)
