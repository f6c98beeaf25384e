"""Helpers the routers share: scoped look-ups, commits that map conflicts, idempotency."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from typing import Annotated, TypeVar

from fastapi import Header, Query
from fastapi.responses import Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from evfleet.api.auth import Principal
from evfleet.api.problems import FieldError, ProblemError, conflict, field_error, not_found
from evfleet.api.schemas import Limit, Offset
from evfleet.store import models as m
from evfleet.store.repositories import Scope

__all__ = [
    "IdempotencyKey",
    "LimitQuery",
    "OffsetQuery",
    "commit",
    "duplicate",
    "fingerprint",
    "get_or_404",
    "idempotent_replay",
    "remember_response",
    "scope_of",
]

M = TypeVar("M", bound=m.OrgOwned)

LimitQuery = Annotated[Limit, Query(description="Most items to return (1 to 500)")]
OffsetQuery = Annotated[Offset, Query(description="Items to skip")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Makes a retry of this request return the first response instead of "
        "acting twice (kept per organisation)",
    ),
]


def scope_of(session: Session, principal: Principal) -> Scope:
    """The caller's organisation's view of the session."""
    return Scope(session, principal.organisation_id)


def get_or_404(scope: Scope, model: type[M], row_id: uuid.UUID, what: str) -> M:
    """The row, or a 404 problem (also for another organisation's rows)."""
    row = scope.get(model, row_id)
    if row is None:
        raise not_found(what)
    return row


def commit(session: Session, what: str, errors: Sequence[FieldError] = ()) -> None:
    """Commits; a constraint violation becomes a 409 problem naming ``what``."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise conflict(f"{what} conflicts with existing data", errors=errors) from None


def duplicate(field: str, value: str, what: str) -> ProblemError:
    """409: another ``what`` of the organisation already has this ``field``."""
    return conflict(
        f"another {what} already has {field} {value!r}",
        slug="duplicate",
        errors=[field_error(["body", field], f"already used by another {what}", "duplicate")],
    )


def fingerprint(method: str, path: str, *parts: bytes) -> str:
    """SHA-256 over the method, the path and the request's content."""
    digest = hashlib.sha256(f"{method} {path}\n".encode())
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def idempotent_replay(scope: Scope, key: str | None, print_: str) -> Response | None:
    """The stored response for ``key`` if this request was made before, else ``None``.

    The same key with a different request (another fingerprint) is a 422 problem.
    """
    if key is None:
        return None
    record = scope.idempotency_record(key)
    if record is None:
        return None
    if record.fingerprint != print_:
        raise ProblemError(
            422,
            "this Idempotency-Key was used for a different request",
            slug="idempotency-key-reused",
            errors=[field_error(["header", "Idempotency-Key"], "already used for another request")],
        )
    return Response(
        content=record.body,
        status_code=record.status_code,
        media_type="application/json",
        headers={"Idempotent-Replayed": "true"},
    )


def remember_response(
    scope: Scope, key: str | None, method: str, path: str, print_: str, status: int, body: str
) -> None:
    """Stores the response for ``key`` in the same transaction as the request's effects."""
    if key is None:
        return
    scope.add(
        m.IdempotencyRecord(
            key=key,
            method=method,
            path=path[:500],
            fingerprint=print_,
            status_code=status,
            body=body,
        )
    )
