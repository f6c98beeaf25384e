"""Queries and writes, always within one organisation (:class:`Scope`).

Isolation rests on one rule: every read or write of an organisation's data goes through a
:class:`Scope`, whose queries carry ``organisation_id = <the caller's organisation>``. A row
of another organisation is therefore simply not found, and the API answers 404 for it,
exactly as for an id that does not exist. The few lookups that cannot be scoped (a login by
e-mail, a bearer token, an API-key prefix, the planning worker's queue) are the plain
functions at the end of the module.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from evfleet.order_status import OrderStatus, check_transition
from evfleet.store import models as m
from evfleet.store.models import utcnow

__all__ = [
    "Scope",
    "api_key_by_prefix",
    "claim_next_job",
    "fail_interrupted_jobs",
    "token_by_hash",
    "user_by_email",
]

M = TypeVar("M", bound=m.OrgOwned)

JOB_ACTIVE = ("queued", "running")
"""Planning-job statuses that are not final."""


class Scope:
    """A session seen from one organisation: every query is limited to its rows."""

    def __init__(self, session: Session, organisation_id: uuid.UUID) -> None:
        self.session = session
        self.organisation_id = organisation_id

    # ------------------------------------------------------------------ generic

    def get(self, model: type[M], row_id: uuid.UUID) -> M | None:
        """The row of ``model`` with ``row_id`` in this organisation (``None``: not found)."""
        query = select(model).where(
            model.id == row_id, model.organisation_id == self.organisation_id
        )
        return self.session.scalars(query).first()

    def find(self, model: type[M], *where: ColumnElement[bool]) -> M | None:
        """The first row of ``model`` in this organisation that matches ``where``."""
        query = select(model).where(model.organisation_id == self.organisation_id, *where)
        return self.session.scalars(query.limit(1)).first()

    def page(
        self,
        model: type[M],
        *where: ColumnElement[bool],
        order_by: Sequence[Any] = (),
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[M], int]:
        """One page of rows matching ``where`` (newest first by default) and the total count."""
        base = [model.organisation_id == self.organisation_id, *where]
        total = self.session.scalar(select(func.count()).select_from(model).where(*base)) or 0
        query = select(model).where(*base).order_by(*order_by, model.id).limit(limit)
        rows = list(self.session.scalars(query.offset(offset)))
        return rows, total

    def all(self, model: type[M], *where: ColumnElement[bool]) -> list[M]:
        """Every row of ``model`` in this organisation that matches ``where``."""
        query = select(model).where(model.organisation_id == self.organisation_id, *where)
        return list(self.session.scalars(query))

    def add(self, row: M) -> M:
        """Adds ``row`` to this organisation and flushes (so constraint errors surface here)."""
        row.organisation_id = self.organisation_id
        self.session.add(row)
        self.session.flush()
        return row

    def delete(self, row: m.OrgOwned) -> None:
        """Deletes ``row`` (which must belong to this organisation) and flushes."""
        if row.organisation_id != self.organisation_id:
            raise PermissionError("row of another organisation")
        self.session.delete(row)
        self.session.flush()

    def organisation(self) -> m.Organisation:
        """This organisation's own row."""
        org = self.session.get(m.Organisation, self.organisation_id)
        if org is None:
            raise LookupError(f"organisation {self.organisation_id} does not exist")
        return org

    # ------------------------------------------------------------------ orders

    def orders_by_external_id(self, external_ids: Iterable[str]) -> dict[str, m.Order]:
        """The orders with these external ids, by external id (missing ids are left out)."""
        wanted = list(dict.fromkeys(external_ids))
        found: dict[str, m.Order] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            for order in self.all(m.Order, m.Order.external_id.in_(chunk)):
                found[order.external_id] = order
        return found

    def add_order(self, order: m.Order, actor: str, reason: str = "") -> m.Order:
        """Adds a new order as ``received`` and records that as its first status event."""
        order.status = OrderStatus.RECEIVED.value
        self.add(order)
        self.add(
            m.OrderStatusEvent(
                order_id=order.id,
                from_status=None,
                to_status=OrderStatus.RECEIVED.value,
                actor=actor,
                reason=reason,
            )
        )
        return order

    def set_order_status(
        self, order: m.Order, target: OrderStatus, actor: str, reason: str = ""
    ) -> m.OrderStatusEvent:
        """Moves ``order`` to ``target`` and records the event.

        Raises :class:`~evfleet.order_status.InvalidTransitionError` when the life cycle does
        not allow the step (nothing is changed then).
        """
        current = OrderStatus(order.status)
        check_transition(current, target)
        now = utcnow()
        order.status = target.value
        order.updated_at = now
        return self.add(
            m.OrderStatusEvent(
                order_id=order.id,
                from_status=current.value,
                to_status=target.value,
                at=now,
                actor=actor,
                reason=reason,
            )
        )

    def order_history(self, order_id: uuid.UUID) -> list[m.OrderStatusEvent]:
        """The status events of an order, oldest first."""
        query = (
            select(m.OrderStatusEvent)
            .where(
                m.OrderStatusEvent.organisation_id == self.organisation_id,
                m.OrderStatusEvent.order_id == order_id,
            )
            .order_by(m.OrderStatusEvent.at, m.OrderStatusEvent.id)
        )
        return list(self.session.scalars(query))

    def routes_of_order(self, order_id: uuid.UUID) -> list[m.PlanRoute]:
        """The routes (of dispatched plans) that deliver ``order_id``."""
        query = (
            select(m.PlanRoute)
            .join(m.PlanStop, m.PlanStop.route_id == m.PlanRoute.id)
            .join(m.Plan, m.Plan.id == m.PlanRoute.plan_id)
            .where(
                m.PlanRoute.organisation_id == self.organisation_id,
                m.PlanStop.order_id == order_id,
                m.Plan.status == "dispatched",
            )
        )
        return list(self.session.scalars(query))

    # ------------------------------------------------------------------ plans

    def plan_routes(self, plan_id: uuid.UUID) -> list[m.PlanRoute]:
        """The routes of a plan, in plan order."""
        return sorted(self.all(m.PlanRoute, m.PlanRoute.plan_id == plan_id), key=lambda r: r.index)

    def route_stops(self, route_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[m.PlanStop]]:
        """The stops of each route, in sequence."""
        stops: dict[uuid.UUID, list[m.PlanStop]] = {rid: [] for rid in route_ids}
        if not route_ids:
            return stops
        query = (
            select(m.PlanStop)
            .where(
                m.PlanStop.organisation_id == self.organisation_id,
                m.PlanStop.route_id.in_(list(route_ids)),
            )
            .order_by(m.PlanStop.route_id, m.PlanStop.sequence)
        )
        for stop in self.session.scalars(query):
            stops[stop.route_id].append(stop)
        return stops

    def plan_orders(self, plan_id: uuid.UUID) -> list[m.Order]:
        """The orders delivered by a plan's routes."""
        query = (
            select(m.Order)
            .join(m.PlanStop, m.PlanStop.order_id == m.Order.id)
            .join(m.PlanRoute, m.PlanRoute.id == m.PlanStop.route_id)
            .where(m.Order.organisation_id == self.organisation_id, m.PlanRoute.plan_id == plan_id)
        )
        return list(self.session.scalars(query).unique())

    def job_of_plan(self, plan_id: uuid.UUID) -> m.PlanningJob | None:
        """The planning job that made a plan, if any."""
        return self.find(m.PlanningJob, m.PlanningJob.plan_id == plan_id)

    # ------------------------------------------------------------------ idempotency

    def idempotency_record(self, key: str) -> m.IdempotencyRecord | None:
        """The stored response for ``key`` in this organisation, if any."""
        return self.find(m.IdempotencyRecord, m.IdempotencyRecord.key == key)


# ---------------------------------------------------------------------- unscoped look-ups


def user_by_email(session: Session, email: str) -> m.User | None:
    """The user with this e-mail address (compared in lower case), in any organisation."""
    return session.scalars(select(m.User).where(m.User.email == email.strip().lower())).first()


def token_by_hash(session: Session, token_hash: str) -> m.AccessToken | None:
    """The access token with this SHA-256 hash, in any organisation."""
    query = select(m.AccessToken).where(m.AccessToken.token_hash == token_hash)
    return session.scalars(query).first()


def api_key_by_prefix(session: Session, prefix: str) -> m.ApiKey | None:
    """The API key with this public prefix, in any organisation."""
    return session.scalars(select(m.ApiKey).where(m.ApiKey.prefix == prefix)).first()


def claim_next_job(session: Session) -> m.PlanningJob | None:
    """Marks the oldest queued planning job as running and returns it (``None``: none queued).

    The claim is a conditional update (``WHERE status = 'queued'``), so two workers never
    take the same job; the caller commits.
    """
    while True:
        query = (
            select(m.PlanningJob.id)
            .where(m.PlanningJob.status == "queued")
            .order_by(m.PlanningJob.created_at, m.PlanningJob.id)
            .limit(1)
        )
        job_id = session.scalar(query)
        if job_id is None:
            return None
        now = utcnow()
        claimed = session.execute(
            update(m.PlanningJob)
            .where(m.PlanningJob.id == job_id, m.PlanningJob.status == "queued")
            .values(status="running", started_at=now, heartbeat_at=now)
        )
        if getattr(claimed, "rowcount", 0) == 1:
            session.flush()
            job = session.get(m.PlanningJob, job_id, populate_existing=True)
            return job


def fail_interrupted_jobs(
    session: Session, reason: str, *, before: dt.datetime | None = None
) -> int:
    """Marks running jobs as failed with ``reason`` (only those not heard of since ``before``).

    Run when a worker starts: a job still ``running`` then was cut off by a restart.
    Returns how many jobs it failed; the caller commits.
    """
    query = update(m.PlanningJob).where(m.PlanningJob.status == "running")
    if before is not None:
        query = query.where(
            (m.PlanningJob.heartbeat_at.is_(None)) | (m.PlanningJob.heartbeat_at < before)
        )
    result = session.execute(query.values(status="failed", error=reason, finished_at=utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)
