"""Repositories on both databases: organisation scoping, constraints, order history, job queue."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from evfleet.order_status import InvalidTransitionError, OrderStatus
from evfleet.store import models as m
from evfleet.store.db import Database
from evfleet.store.repositories import (
    Scope,
    claim_next_job,
    fail_interrupted_jobs,
    user_by_email,
)


def _org(db: Database, name: str) -> uuid.UUID:
    with db.session() as session:
        org = m.Organisation(name=name)
        session.add(org)
        session.flush()
        return org.id


def _order(external_id: str) -> m.Order:
    return m.Order(external_id=external_id, latitude_deg=48.1, longitude_deg=11.5)


def test_a_scope_sees_only_its_organisation(db: Database) -> None:
    a, b = _org(db, "A"), _org(db, "B")
    with db.session() as session:
        mine = Scope(session, a).add_order(_order("X-1"), "test")
        theirs = Scope(session, b).add_order(_order("X-1"), "test")  # same id, other org: fine
        mine_id, theirs_id = mine.id, theirs.id
    with db.sessions() as session:
        scope = Scope(session, a)
        assert scope.get(m.Order, mine_id) is not None
        assert scope.get(m.Order, theirs_id) is None
        assert scope.find(m.Order, m.Order.id == theirs_id) is None
        rows, total = scope.page(m.Order)
        assert [r.id for r in rows] == [mine_id] and total == 1
        assert [r.id for r in scope.all(m.Order)] == [mine_id]
        assert next(iter(scope.orders_by_external_id(["X-1"]).values())).id == mine_id
        assert scope.order_history(theirs_id) == []
        other = Scope(session, b).get(m.Order, theirs_id)
        assert other is not None
        with pytest.raises(PermissionError):
            scope.delete(other)


def test_natural_keys_are_unique_per_organisation(db: Database) -> None:
    a = _org(db, "A")
    with db.sessions() as session:
        scope = Scope(session, a)
        scope.add_order(_order("DUP"), "test")
        with pytest.raises(IntegrityError):
            scope.add(_order("DUP"))


def test_foreign_keys_are_enforced(db: Database) -> None:
    a = _org(db, "A")
    with db.sessions() as session:
        scope = Scope(session, a)
        with pytest.raises(IntegrityError):
            scope.add(m.Vehicle(plate="M-1", vehicle_type_id=uuid.uuid4(), depot_id=uuid.uuid4()))


def test_status_changes_follow_the_life_cycle_and_are_recorded(db: Database) -> None:
    a = _org(db, "A")
    with db.session() as session:
        scope = Scope(session, a)
        order = scope.add_order(_order("S-1"), "user:a@x")
        scope.set_order_status(order, OrderStatus.PLANNED, "job:1", "planned")
        with pytest.raises(InvalidTransitionError):
            scope.set_order_status(order, OrderStatus.DELIVERED, "user:a@x")
        assert order.status == "planned"
        order_id = order.id
    with db.sessions() as session:
        history = Scope(session, a).order_history(order_id)
        assert [(e.from_status, e.to_status, e.actor) for e in history] == [
            (None, "received", "user:a@x"),
            ("received", "planned", "job:1"),
        ]
        assert all(e.at.tzinfo is dt.UTC for e in history)


def test_times_come_back_timezone_aware_utc(db: Database) -> None:
    a = _org(db, "A")
    berlin = dt.timezone(dt.timedelta(hours=1))
    when = dt.datetime(2025, 1, 2, 9, 0, tzinfo=berlin)
    with db.session() as session:
        job = Scope(session, a).add(m.PlanningJob(params={}, started_at=when))
        job_id = job.id
    with db.sessions() as session:
        job = session.get(m.PlanningJob, job_id)
        assert job is not None and job.started_at == when
        assert job.started_at.tzinfo is dt.UTC and job.started_at.hour == 8


def test_the_job_queue_hands_out_each_job_once_oldest_first(db: Database) -> None:
    a = _org(db, "A")
    base = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    with db.session() as session:
        scope = Scope(session, a)
        ids = [
            scope.add(m.PlanningJob(params={"n": k}, created_at=base + dt.timedelta(minutes=k))).id
            for k in range(2)
        ]
    claimed = []
    for _ in range(3):
        with db.sessions() as session:
            job = claim_next_job(session)
            session.commit()
            claimed.append(job.id if job is not None else None)
    assert claimed == [ids[0], ids[1], None]
    with db.session() as session:
        assert fail_interrupted_jobs(session, "restart") == 2
    with db.sessions() as session:
        statuses = session.scalars(sa.select(m.PlanningJob.status)).all()
        errors = session.scalars(sa.select(m.PlanningJob.error)).all()
    assert statuses == ["failed", "failed"] and errors == ["restart", "restart"]


def test_user_lookup_by_email_ignores_case(db: Database) -> None:
    a = _org(db, "A")
    with db.session() as session:
        Scope(session, a).add(
            m.User(email="ann@example.test", role="admin", password_hash="h", name="Ann")
        )
    with db.sessions() as session:
        user = user_by_email(session, "  ANN@Example.TEST ")
        assert user is not None and user.name == "Ann"


def test_sqlite_uses_wal_and_foreign_keys(tmp_path: object) -> None:
    db = Database(f"sqlite:///{tmp_path}/x.db")
    try:
        with db.engine.connect() as c:
            assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        db.dispose()


def test_postgres_urls_use_psycopg_3() -> None:
    from evfleet.store.db import DEFAULT_DATABASE_URL, normalise_url

    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url(DEFAULT_DATABASE_URL) == "sqlite:///./evfleet.db"
