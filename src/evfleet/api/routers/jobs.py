"""``/plans/jobs``: planning jobs: queue (202), follow over SSE, cancel.

The web process only queues a job (a row, ``queued``); the worker process
(:mod:`evfleet.api.worker`) claims it, writes the engine's best-so-far into ``progress``
about once a second, and stores the result as a draft plan. ``GET .../events`` streams each
change as a server-sent event ``job`` and the final state as ``end``. Cancelling a queued
job cancels it at once; a running one stops at the engine's next iteration.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import update

from evfleet.api.auth import Permission, Principal, require
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
from evfleet.api.deps import DbSession, Services, get_services
from evfleet.api.problems import ProblemError, conflict, field_error
from evfleet.api.schemas import JobIn, JobOut, Page
from evfleet.store import models as m
from evfleet.store.models import utcnow
from evfleet.store.repositories import JOB_ACTIVE, Scope

router = APIRouter(prefix="/plans/jobs", tags=["planning jobs"])
Reader = Annotated[Principal, Depends(require(Permission.PLANS_READ))]
Writer = Annotated[Principal, Depends(require(Permission.PLANS_WRITE))]
KEEPALIVE_S = 15.0


class EventStreamResponse(StreamingResponse):
    media_type = "text/event-stream"


def job_out(row: m.PlanningJob) -> JobOut:
    """The job as the API shows it."""
    return JobOut.model_validate(
        {
            "id": row.id,
            "status": row.status,
            "params": row.params,
            "progress": row.progress,
            "error": row.error,
            "cancel_requested": row.cancel_requested,
            "plan_id": row.plan_id,
            "created_by": row.created_by,
            "created_at": row.created_at,
            "started_at": row.started_at,
            "finished_at": row.finished_at,
        }
    )


def _check_refs(scope: Scope, body: JobIn) -> None:
    for name, model, ids in (
        ("order_ids", m.Order, body.order_ids),
        ("vehicle_ids", m.Vehicle, body.vehicle_ids),
    ):
        if not ids:
            continue
        found = {row.id for row in scope.all(model, model.id.in_(ids))}
        missing = [k for k, i in enumerate(ids) if i not in found]
        if missing:
            raise ProblemError(
                422,
                f"{len(missing)} of {name} are unknown",
                slug="validation",
                errors=[field_error(["body", name, k], "unknown id") for k in missing[:50]],
            )


@router.post(
    "",
    response_model=JobOut,
    status_code=202,
    summary="Queue a planning job",
    responses={202: {"description": "Queued; follow it at the Location header"}},
)
def create_job(
    request: Request,
    body: JobIn,
    principal: Writer,
    session: DbSession,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """202 with the job (``Location``: its URL). The worker process plans it."""
    scope = scope_of(session, principal)
    path = request.url.path
    print_ = fingerprint("POST", path, body.model_dump_json().encode())
    replay = idempotent_replay(scope, idempotency_key, print_)
    if replay is not None:
        return replay
    _check_refs(scope, body)
    row = scope.add(
        m.PlanningJob(
            status="queued",
            params=body.model_dump(mode="json"),
            created_by=principal.actor,
        )
    )
    text = job_out(row).model_dump_json()
    remember_response(scope, idempotency_key, "POST", path, print_, 202, text)
    commit(session, "the job")
    return Response(
        text,
        status_code=202,
        media_type="application/json",
        headers={"Location": f"{path}/{row.id}"},
    )


@router.get("", response_model=Page[JobOut], summary="List planning jobs")
def list_jobs(
    principal: Reader,
    session: DbSession,
    limit: LimitQuery = 100,
    offset: OffsetQuery = 0,
    active: Annotated[bool | None, Query(description="Only queued and running jobs")] = None,
) -> Page[JobOut]:
    where = [m.PlanningJob.status.in_(JOB_ACTIVE)] if active else []
    rows, total = scope_of(session, principal).page(
        m.PlanningJob,
        *where,
        order_by=[m.PlanningJob.created_at.desc()],
        limit=limit,
        offset=offset,
    )
    return Page(items=[job_out(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/{job_id}", response_model=JobOut, summary="A planning job and its progress")
def get_job(job_id: uuid.UUID, principal: Reader, session: DbSession) -> JobOut:
    return job_out(get_or_404(scope_of(session, principal), m.PlanningJob, job_id, "planning job"))


@router.post(
    "/{job_id}/cancel", response_model=JobOut, status_code=202, summary="Cancel a planning job"
)
def cancel_job(job_id: uuid.UUID, principal: Writer, session: DbSession) -> JobOut:
    """A queued job is cancelled at once; a running one is asked to stop (202 either way);
    a finished one is 409."""
    scope = scope_of(session, principal)
    row = get_or_404(scope, m.PlanningJob, job_id, "planning job")
    result = session.execute(
        update(m.PlanningJob)
        .where(m.PlanningJob.id == row.id, m.PlanningJob.status == "queued")
        .values(status="cancelled", cancel_requested=True, finished_at=utcnow(), error="cancelled")
    )
    cancelled = getattr(result, "rowcount", 0) == 1
    session.refresh(row)
    if not cancelled:
        if row.status != "running":
            raise conflict(f"the job has already {row.status}", slug="job-state")
        row.cancel_requested = True
    commit(session, "the job")
    return job_out(row)


def _snapshot(services: Services, organisation_id: uuid.UUID, job_id: uuid.UUID) -> JobOut | None:
    with services.db.sessions() as session:
        row = Scope(session, organisation_id).get(m.PlanningJob, job_id)
        return job_out(row) if row is not None else None


@router.get(
    "/{job_id}/events",
    response_class=EventStreamResponse,
    summary="Follow a planning job (server-sent events)",
    responses={
        200: {
            "description": "``event: job`` on every change (data: the job as JSON, with the "
            "best plan so far in ``progress``), then ``event: end`` with the final job",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    },
)
def job_events(
    job_id: uuid.UUID,
    principal: Reader,
    session: DbSession,
    services: Annotated[Services, Depends(get_services)],
    max_wait_s: Annotated[
        float, Query(ge=0.0, le=3600.0, description="Close the stream after this long")
    ] = 300.0,
) -> EventStreamResponse:
    """The stream ends when the job does, or after ``max_wait_s`` (reconnect to go on)."""
    get_or_404(scope_of(session, principal), m.PlanningJob, job_id, "planning job")
    session.close()  # the stream polls with short sessions of its own
    organisation_id = principal.organisation_id
    poll_s = services.settings.sse_poll_s

    async def stream() -> AsyncIterator[str]:
        deadline = time.monotonic() + max_wait_s
        last_data = ""
        last_sent = time.monotonic()
        sequence = 0
        while True:
            job = await anyio.to_thread.run_sync(_snapshot, services, organisation_id, job_id)
            if job is None:
                return
            final = job.status not in JOB_ACTIVE
            data = job.model_dump_json()
            if data != last_data or final:
                sequence += 1
                event = "end" if final else "job"
                yield f"id: {sequence}\nevent: {event}\ndata: {data}\n\n"
                last_data, last_sent = data, time.monotonic()
            if final or time.monotonic() >= deadline:
                return
            if time.monotonic() - last_sent >= KEEPALIVE_S:
                yield ": keep-alive\n\n"
                last_sent = time.monotonic()
            await anyio.sleep(poll_s)

    return EventStreamResponse(stream(), headers={"Cache-Control": "no-cache"})
