"""Errors as ``application/problem+json`` (RFC 9457), for every 4xx the API returns.

A body has ``type`` (a URI naming the kind of problem: ``urn:evfleet:problem:<slug>``, or
``about:blank`` when the HTTP status says it all), ``title``, ``status``, ``detail`` and
``instance`` (the request path), plus ``errors``: one ``{"loc": [...], "msg": ...}`` per
offending field, ``loc`` naming where it is (``["body", "latitude_deg"]``,
``["query", "limit"]``, ``["file", 17, "latitude"]`` for a CSV cell). Raise
:class:`ProblemError` in handlers; :func:`install` turns framework errors (unknown route,
wrong method, validation) into the same shape.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "FieldError",
    "Problem",
    "ProblemError",
    "conflict",
    "field_error",
    "forbidden",
    "install",
    "not_found",
    "problem_response",
    "unauthorized",
]

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:evfleet:problem:"
log = logging.getLogger("evfleet.api")


class FieldError(BaseModel):
    """One offending field: where it is and what is wrong with it."""

    loc: list[str | int] = Field(description="Path to the field: body/query/path/header/file...")
    msg: str
    type: str | None = Field(default=None, description="Machine-readable error kind")


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] = Field(default_factory=list)


def field_error(loc: Sequence[str | int], msg: str, kind: str | None = None) -> FieldError:
    """A :class:`FieldError` (shorthand)."""
    return FieldError(loc=list(loc), msg=msg, type=kind)


class ProblemError(Exception):
    """Raise to answer with a problem: ``status``, a ``slug`` naming its type, a ``detail``.

    ``title`` defaults to the status phrase; ``errors`` name the fields; ``headers`` are
    added to the response (``Retry-After``, ``WWW-Authenticate``); ``extra`` becomes extra
    members of the body.
    """

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        slug: str | None = None,
        title: str | None = None,
        errors: Sequence[FieldError] = (),
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.type = TYPE_PREFIX + slug if slug else "about:blank"
        self.title = title or HTTPStatus(status).phrase
        self.errors = list(errors)
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


def not_found(what: str = "resource") -> ProblemError:
    """404: the id names nothing this caller can see (the same for other organisations' ids)."""
    return ProblemError(404, f"no such {what}", slug="not-found")


def forbidden(detail: str = "your role does not allow this") -> ProblemError:
    """403: authenticated, but the role lacks the permission."""
    return ProblemError(403, detail, slug="forbidden")


def unauthorized(detail: str = "missing or invalid credentials") -> ProblemError:
    """401 with ``WWW-Authenticate: Bearer``."""
    return ProblemError(
        401, detail, slug="unauthorized", headers={"WWW-Authenticate": 'Bearer realm="evfleet"'}
    )


def conflict(
    detail: str, *, slug: str = "conflict", errors: Sequence[FieldError] = ()
) -> ProblemError:
    """409: the request clashes with the current state (a duplicate, a forbidden transition)."""
    return ProblemError(409, detail, slug=slug, errors=errors)


def problem_response(
    request: Request,
    status: int,
    title: str,
    detail: str | None,
    *,
    type_: str = "about:blank",
    errors: Sequence[FieldError] = (),
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    """A ``application/problem+json`` response."""
    body: dict[str, Any] = {
        "type": type_,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "errors": [e.model_dump() for e in errors],
    }
    body.update(extra or {})
    return JSONResponse(
        body, status_code=status, headers=dict(headers or {}), media_type=PROBLEM_MEDIA_TYPE
    )


def _loc(raw: Sequence[Any]) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in raw]


def _validation_errors(exc: RequestValidationError) -> list[FieldError]:
    errors = []
    for err in exc.errors():
        message = str(err.get("msg", "invalid value"))
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        errors.append(FieldError(loc=_loc(err.get("loc", ())), msg=message, type=err.get("type")))
    return errors


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(
        request,
        exc.status,
        exc.title,
        exc.detail,
        type_=exc.type,
        errors=exc.errors,
        headers=exc.headers,
        extra=exc.extra,
    )


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    detail = exc.detail if isinstance(exc.detail, str) else None
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    return problem_response(request, status, title, detail, headers=exc.headers)


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _validation_errors(exc)
    fields = ", ".join(".".join(str(p) for p in e.loc) for e in errors[:5])
    return problem_response(
        request,
        422,
        "Unprocessable Content",
        f"the request has invalid fields: {fields}" if fields else "the request is invalid",
        type_=TYPE_PREFIX + "validation",
        errors=errors,
    )


async def _on_integrity(request: Request, exc: Exception) -> JSONResponse:
    """A constraint the handler did not check first (a race between two requests)."""
    return problem_response(
        request,
        409,
        "Conflict",
        "the request conflicts with existing data (changed at the same time?); retry",
        type_=TYPE_PREFIX + "conflict",
    )


async def _on_data(request: Request, exc: Exception) -> JSONResponse:
    """A value the database cannot store (a safety net behind the schemas' limits)."""
    log.warning("database refused a value on %s %s: %s", request.method, request.url.path, exc)
    return problem_response(
        request,
        422,
        "Unprocessable Content",
        "a value cannot be stored (too long, out of range or not text)",
        type_=TYPE_PREFIX + "validation",
    )


async def _on_busy(request: Request, exc: Exception) -> JSONResponse:
    """The database is locked or unreachable for now."""
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
    return problem_response(
        request,
        503,
        "Service Unavailable",
        "the database is busy or unreachable; retry shortly",
        headers={"Retry-After": "1"},
    )


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        request, 500, "Internal Server Error", "an unexpected error occurred; it has been logged"
    )


def install(app: FastAPI) -> None:
    """Registers the problem+json handlers on ``app``."""
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(IntegrityError, _on_integrity)
    app.add_exception_handler(DataError, _on_data)
    app.add_exception_handler(OperationalError, _on_busy)
    app.add_exception_handler(Exception, _on_unexpected)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": Problem, "description": "A problem (RFC 9457, application/problem+json)"},
}
"""``responses=`` for routes: every 4xx is a :class:`Problem`."""
