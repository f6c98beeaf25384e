"""``/orders``: single and bulk (CSV) import, idempotent; the status life cycle and history.

Two kinds of idempotency work together. The order's own id (``external_id``) is its natural
key in the organisation: sending the same order again changes nothing (200 with the stored
order; the same CSV imported twice reports every row ``unchanged``), while the same id with
other data is a 409 for a single order, and an update for a bulk row still ``received``.
And any POST here may carry an ``Idempotency-Key`` header: the first response is stored with
the request's effects, in one transaction, and a retry with the same key gets it back
(``Idempotent-Replayed: true``); the key reused for a different request is a 422.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile
from pydantic import BaseModel, ValidationError

from evfleet.api.auth import Permission, Principal, Role, require
from evfleet.api.common import (
    IdempotencyKey,
    LimitQuery,
    OffsetQuery,
    commit,
    fingerprint,
    get_or_404,
    idempotent_replay,
    remember_response,
    scope_of,
)
from evfleet.api.convert import check_order
from evfleet.api.deps import DbSession, Services, get_services
from evfleet.api.problems import ProblemError, conflict, field_error, forbidden, not_found
from evfleet.api.schemas import (
    ExternalId,
    ImportedOrder,
    ImportIssue,
    ImportReport,
    OrderDetail,
    OrderIn,
    OrderOut,
    OrderUpdate,
    Page,
    StatusChangeIn,
    StatusEventOut,
    TimeOfDay,
)
from evfleet.day import Order, RowError
from evfleet.errors import InputError
from evfleet.io.orders_csv import read_orders_csv
from evfleet.order_status import InvalidTransitionError, OrderStatus, allowed_next
from evfleet.store import models as m
from evfleet.store.models import utcnow
from evfleet.store.repositories import Scope

router = APIRouter(prefix="/orders", tags=["orders"])
Reader = Annotated[Principal, Depends(require(Permission.ORDERS_READ))]
Writer = Annotated[Principal, Depends(require(Permission.ORDERS_WRITE))]
StatusWriter = Annotated[Principal, Depends(require(Permission.ORDER_STATUS))]

DATA_FIELDS = (
    "latitude_deg",
    "longitude_deg",
    "parcels",
    "weight_kg",
    "tw_early_s",
    "tw_late_s",
    "service_s",
    "notes",
    "delivery_date",
)
"""The fields that make an order's content (compared to tell a retry from a change)."""

CSV_COLUMNS = {
    "external_id": "id",
    "latitude_deg": "latitude",
    "longitude_deg": "longitude",
    "tw_early_s": "tw_start",
    "tw_late_s": "tw_end",
}
"""The orders.csv column of each API field whose name differs."""

DRIVER_STATUSES = frozenset(
    {OrderStatus.OUT_FOR_DELIVERY, OrderStatus.DELIVERED, OrderStatus.FAILED, OrderStatus.RETURNED}
)
"""Statuses a driver may set (on the orders of their own dispatched routes)."""


def _detail(scope: Scope, row: m.Order) -> OrderDetail:
    history = [StatusEventOut.model_validate(e) for e in scope.order_history(row.id)]
    return OrderDetail.model_validate(
        {
            **OrderOut.model_validate(row).model_dump(),
            "allowed_next": list(allowed_next(OrderStatus(row.status))),
            "history": history,
        }
    )


def _values(body: OrderIn | Order, delivery_date: dt.date | None) -> dict[str, Any]:
    if isinstance(body, OrderIn):
        values = body.model_dump(exclude={"external_id"})
    else:
        values = {
            "latitude_deg": body.latitude_deg,
            "longitude_deg": body.longitude_deg,
            "parcels": body.parcels,
            "weight_kg": body.weight_kg,
            "tw_early_s": body.tw_early_s,
            "tw_late_s": None if body.tw_late_s == float("inf") else body.tw_late_s,
            "service_s": body.service_s,
            "notes": body.notes,
            "delivery_date": delivery_date,
        }
    return values


def _same(row: m.Order, values: dict[str, Any]) -> bool:
    return all(getattr(row, name) == values[name] for name in DATA_FIELDS)


def _json(model: BaseModel) -> str:
    return model.model_dump_json()


@router.get("", response_model=Page[OrderOut], summary="List orders")
def list_orders(
    principal: Reader,
    session: DbSession,
    limit: LimitQuery = 100,
    offset: OffsetQuery = 0,
    status: Annotated[OrderStatus | None, Query()] = None,
    external_id: Annotated[ExternalId | None, Query()] = None,
    delivery_date: Annotated[dt.date | None, Query()] = None,
) -> Page[OrderOut]:
    """Filter by ``status``, the dispatcher's ``external_id`` or ``delivery_date``."""
    where = []
    if status is not None:
        where.append(m.Order.status == status.value)
    if external_id is not None:
        where.append(m.Order.external_id == external_id)
    if delivery_date is not None:
        where.append(m.Order.delivery_date == delivery_date)
    rows, total = scope_of(session, principal).page(
        m.Order, *where, order_by=[m.Order.external_id], limit=limit, offset=offset
    )
    return Page(
        items=[OrderOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.post(
    "",
    response_model=OrderOut,
    status_code=201,
    summary="Add an order (idempotent)",
    responses={200: {"model": OrderOut, "description": "The same order was already there"}},
)
def create_order(
    request: Request,
    body: OrderIn,
    principal: Writer,
    session: DbSession,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """201 with the new order; 200 if an identical order with this ``external_id`` exists;
    409 if one exists with other data."""
    scope = scope_of(session, principal)
    path = request.url.path
    print_ = fingerprint("POST", path, body.model_dump_json().encode())
    replay = idempotent_replay(scope, idempotency_key, print_)
    if replay is not None:
        return replay
    values = _values(body, None)
    existing = scope.orders_by_external_id([body.external_id]).get(body.external_id)
    if existing is not None:
        if not _same(existing, values):
            raise conflict(
                f"order {body.external_id!r} exists with other data",
                slug="duplicate",
                errors=[field_error(["body", "external_id"], "already used by another order")],
            )
        status, row = 200, existing
    else:
        row = m.Order(external_id=body.external_id, **values)
        check_order(row)
        scope.add_order(row, principal.actor, "created")
        status = 201
    text = _json(OrderOut.model_validate(row))
    remember_response(scope, idempotency_key, "POST", path, print_, status, text)
    commit(session, "the order")
    return Response(text, status_code=status, media_type="application/json")


def _issue(error: RowError) -> ImportIssue:
    loc: list[str | int] = ["file"]
    if error.line is not None:
        loc.append(error.line)
    if error.column is not None:
        loc.append(error.column)
    return ImportIssue(
        loc=loc, msg=error.message, line=error.line, column=error.column, value=error.value
    )


def _safe_name(name: str | None) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name or "orders.csv").name)[:100].strip("._")
    return base or "orders.csv"


@router.post(
    "/import", response_model=ImportReport, summary="Import orders from a CSV file (idempotent)"
)
def import_orders(
    request: Request,
    principal: Writer,
    session: DbSession,
    services: Annotated[Services, Depends(get_services)],
    file: Annotated[UploadFile, File(description="orders.csv (docs/input-formats.md)")],
    partial: Annotated[
        bool, Query(description="Import the good rows even if others are bad")
    ] = False,
    default_service_s: Annotated[TimeOfDay, Query()] = 180.0,
    delivery_date: Annotated[dt.date | None, Query()] = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Reads the file with the same reader as ``evfleet plan`` (encodings, delimiters, decimal
    commas, header aliases) and reports every bad row as ``["file", line, column]``.

    Without ``partial``, any bad row imports nothing (422 listing every error). Rows whose
    ``id`` exists already are ``unchanged`` when identical, ``updated`` when the order is
    still ``received``, and errors when it has moved on (planned orders cannot change).
    """
    limit = services.settings.max_upload_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise ProblemError(413, f"the file is larger than {limit} bytes", slug="too-large")
    name = _safe_name(file.filename)
    scope = scope_of(session, principal)
    query = f"partial={partial}&service={default_service_s}&date={delivery_date}"
    print_ = fingerprint("POST", request.url.path, query.encode(), name.encode(), data)
    replay = idempotent_replay(scope, idempotency_key, print_)
    if replay is not None:
        return replay
    with tempfile.TemporaryDirectory(prefix="evfleet-import-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            result = read_orders_csv(path, default_service_s=default_service_s)
        except InputError as exc:
            raise ProblemError(
                422,
                exc.reason,
                slug="unreadable-file",
                errors=[field_error(["file"] + ([exc.line] if exc.line else []), exc.reason)],
            ) from None
    errors = [_issue(e) for e in result.errors]
    warnings = [_issue(w) for w in result.warnings]
    existing = scope.orders_by_external_id(o.id for o in result.rows)
    outcomes: list[ImportedOrder] = []
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    rejected = len({e.line for e in result.errors})
    plans: list[tuple[Order, m.Order | None, dict[str, Any]]] = []
    for order in result.rows:
        values = _values(order, delivery_date)
        try:  # the API's own limits (lengths, ranges), which the file reader does not know
            OrderIn.model_validate({"external_id": order.id, **values})
        except ValidationError as exc:
            for err in exc.errors():
                field = str(err["loc"][0]) if err["loc"] else None
                column = CSV_COLUMNS.get(field or "", field)
                errors.append(
                    ImportIssue(
                        loc=["file", "id", order.id[:100], *([column] if column else [])],
                        msg=f"order {order.id[:100]!r}: {column}: {err['msg']}",
                        line=None,
                        column=column,
                        value=None,
                    )
                )
            rejected += 1
            continue
        row = existing.get(order.id)
        if row is not None and not _same(row, values) and row.status != OrderStatus.RECEIVED:
            errors.append(
                ImportIssue(
                    loc=["file", "id"],
                    msg=f"order {order.id!r} is already {row.status}; its data cannot change",
                    line=None,
                    column="id",
                    value=order.id,
                )
            )
            rejected += 1
            continue
        plans.append((order, row, values))
    if errors and not partial:
        raise ProblemError(
            422,
            f"{len(errors)} problem(s) in the file; nothing was imported "
            "(fix them, or send partial=true to import the good rows)",
            slug="invalid-rows",
            errors=[field_error(e.loc, e.msg, "row_error") for e in errors],
            extra={"warnings": [w.model_dump() for w in warnings]},
        )
    for order, row, values in plans:
        if row is None:
            row = scope.add_order(
                m.Order(external_id=order.id, **values), principal.actor, f"imported from {name}"
            )
            outcome = "created"
        elif _same(row, values):
            outcome = "unchanged"
        else:
            for field, value in values.items():
                setattr(row, field, value)
            row.updated_at = utcnow()
            outcome = "updated"
        counts[outcome] += 1
        outcomes.append(ImportedOrder(external_id=order.id, id=row.id, outcome=outcome))  # type: ignore[arg-type]
    report = ImportReport(
        file=name,
        created=counts["created"],
        updated=counts["updated"],
        unchanged=counts["unchanged"],
        rejected=rejected,
        orders=outcomes,
        errors=errors,
        warnings=warnings,
    )
    text = _json(report)
    remember_response(scope, idempotency_key, "POST", request.url.path, print_, 200, text)
    commit(session, "the import")
    return Response(text, status_code=200, media_type="application/json")


@router.get("/{order_id}", response_model=OrderDetail, summary="An order with its status history")
def get_order(order_id: uuid.UUID, principal: Reader, session: DbSession) -> OrderDetail:
    scope = scope_of(session, principal)
    return _detail(scope, get_or_404(scope, m.Order, order_id, "order"))


@router.patch("/{order_id}", response_model=OrderDetail, summary="Change an order not yet planned")
def update_order(
    order_id: uuid.UUID, body: OrderUpdate, principal: Writer, session: DbSession
) -> OrderDetail:
    """Only while ``received`` (else 409); ``tw_late_s``/``delivery_date`` ``null`` clear them."""
    scope = scope_of(session, principal)
    row = get_or_404(scope, m.Order, order_id, "order")
    if row.status != OrderStatus.RECEIVED:
        raise conflict(
            f"the order is {row.status}; only received orders change", slug="order-state"
        )
    for name, value in body.model_dump(exclude_unset=True).items():
        if value is not None or name in {"tw_late_s", "delivery_date"}:
            setattr(row, name, value)
    check_order(row)
    row.updated_at = utcnow()
    commit(session, "the order")
    return _detail(scope, row)


@router.delete("/{order_id}", status_code=204, summary="Remove an order not yet planned")
def delete_order(order_id: uuid.UUID, principal: Writer, session: DbSession) -> Response:
    """Only while ``received`` (else 409: a planned order is part of a plan)."""
    scope = scope_of(session, principal)
    row = get_or_404(scope, m.Order, order_id, "order")
    if row.status != OrderStatus.RECEIVED:
        raise conflict(f"the order is {row.status}; only received orders go", slug="order-state")
    scope.delete(row)
    commit(session, "the order")
    return Response(status_code=204)


@router.post("/{order_id}/status", response_model=OrderDetail, summary="Move an order on")
def change_status(
    order_id: uuid.UUID, body: StatusChangeIn, principal: StatusWriter, session: DbSession
) -> OrderDetail:
    """A step of the life cycle (:mod:`evfleet.order_status`); any other is 409.

    Drivers may move only the orders on their own dispatched routes (others are 404), and
    only to out_for_delivery, delivered, failed or returned (else 403).
    """
    scope = scope_of(session, principal)
    row = get_or_404(scope, m.Order, order_id, "order")
    if principal.role is Role.DRIVER:
        routes = scope.routes_of_order(row.id)
        if not any(r.driver_id == principal.user_id for r in routes):
            raise not_found("order")
        if body.status not in DRIVER_STATUSES:
            raise forbidden(f"a driver cannot set an order to {body.status.value}")
    try:
        scope.set_order_status(row, body.status, principal.actor, body.reason)
    except InvalidTransitionError as exc:
        raise conflict(
            str(exc),
            slug="invalid-transition",
            errors=[field_error(["body", "status"], str(exc), "invalid_transition")],
        ) from None
    commit(session, "the status change")
    return _detail(scope, row)


@router.get(
    "/{order_id}/history", response_model=list[StatusEventOut], summary="An order's status history"
)
def order_history(
    order_id: uuid.UUID, principal: Reader, session: DbSession
) -> list[StatusEventOut]:
    scope = scope_of(session, principal)
    row = get_or_404(scope, m.Order, order_id, "order")
    return [StatusEventOut.model_validate(e) for e in scope.order_history(row.id)]
