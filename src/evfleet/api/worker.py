"""The planning worker: a process of its own that runs queued planning jobs one at a time.

``evfleet serve`` starts it beside the web process (:func:`start_worker_process`); both
share only the database. The loop (:func:`run_worker`) claims the oldest queued job
(:func:`~evfleet.store.repositories.claim_next_job`), plans it (:mod:`evfleet.api.planning`)
and stores the plan. While the engine runs, the progress callback writes the best plan so far
and a heartbeat into the job about once a second, and reads ``cancel_requested``: when set,
it stops the engine at that iteration and the job ends ``cancelled``.

On start-up the worker marks every job still ``running`` as ``failed`` with the reason: with
one worker per database (what ``serve`` runs), such a job was cut off by a restart. (Resuming
instead would mean re-running the job from scratch, which the user can do by queueing it
again; failing loudly keeps the plan's provenance clear.)
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import threading
import time
import traceback
import uuid
from typing import Any

from evfleet.api.planning import PlanningError, job_day, plan_job_day, store_plan
from evfleet.errors import EvfleetError
from evfleet.routing.solve import Progress
from evfleet.store import models as m
from evfleet.store.db import Database
from evfleet.store.models import utcnow
from evfleet.store.repositories import Scope, claim_next_job, fail_interrupted_jobs

__all__ = [
    "INTERRUPTED",
    "JobCancelledError",
    "recover_interrupted_jobs",
    "run_job",
    "run_worker",
    "start_worker_process",
]

INTERRUPTED = "interrupted: the planning worker stopped (server restart) while the job ran"
PROGRESS_EVERY_S = 1.0
log = logging.getLogger("evfleet.worker")


class JobCancelledError(Exception):
    """Raised from the progress callback to stop the engine when a cancel was requested."""


def recover_interrupted_jobs(db: Database) -> int:
    """Fails the jobs left ``running`` by a previous worker; returns how many."""
    with db.session() as session:
        return fail_interrupted_jobs(session, INTERRUPTED)


def _finish(db: Database, job_id: uuid.UUID, status: str, error: str | None) -> None:
    with db.session() as session:
        job = session.get(m.PlanningJob, job_id)
        if job is not None:
            job.status = status
            job.error = error
            job.finished_at = utcnow()


class _Reporter:
    """The engine's progress callback: throttled writes, heartbeat and cancellation."""

    def __init__(self, db: Database, job_id: uuid.UUID) -> None:
        self.db = db
        self.job_id = job_id
        self.last = 0.0
        self.stage: str | None = None
        self.latest: dict[str, Any] | None = None

    def write(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < PROGRESS_EVERY_S:
            return
        self.last = now
        with self.db.session() as session:
            job = session.get(m.PlanningJob, self.job_id)
            if job is None:
                raise JobCancelledError("the job was removed")
            if self.latest is not None or self.stage is not None:
                job.progress = {
                    **(
                        self.latest
                        or {
                            "elapsed_s": 0.0,
                            "iteration": 0,
                            "feasible": False,
                            "vehicles": 0,
                            "objective": None,
                        }
                    ),
                    "stage": self.stage,
                }
            job.heartbeat_at = utcnow()
            cancel = job.cancel_requested
        if cancel:
            raise JobCancelledError("cancelled on request")

    def on_stage(self, text: str) -> None:
        self.stage = text
        self.write(force=True)

    def __call__(self, progress: Progress) -> None:
        self.latest = {
            "elapsed_s": progress.elapsed_s,
            "iteration": progress.iteration,
            "feasible": progress.feasible,
            "vehicles": progress.vehicles,
            "objective": progress.objective if progress.objective == progress.objective else None,
        }
        self.write()


def run_job(db: Database, job_id: uuid.UUID) -> str:
    """Plans a claimed (``running``) job to the end; returns its final status."""
    with db.sessions() as session:
        job = session.get(m.PlanningJob, job_id)
        if job is None:
            return "missing"
        organisation_id, params = job.organisation_id, dict(job.params)
        name = str(params.get("name") or f"plan {job.created_at:%Y-%m-%d %H:%M}")
        actor = f"job:{job.id}"
        try:
            day = job_day(Scope(session, organisation_id), params, name)
        except (PlanningError, ValueError) as exc:
            session.rollback()
            _finish(db, job_id, "failed", str(exc))
            return "failed"
    reporter = _Reporter(db, job_id)
    try:
        planned = plan_job_day(
            day,
            time_limit_s=float(params.get("time_limit_s", 30.0)),
            seed=int(params.get("seed", 0)),
            progress=reporter,
            on_stage=reporter.on_stage,
        )
    except JobCancelledError as exc:
        _finish(db, job_id, "cancelled", str(exc))
        return "cancelled"
    except (EvfleetError, ValueError) as exc:
        _finish(db, job_id, "failed", str(exc))
        return "failed"
    except Exception as exc:
        log.exception("planning job %s failed", job_id)
        _finish(db, job_id, "failed", f"internal error: {type(exc).__name__}: {exc}")
        return "failed"
    try:
        with db.session() as session:
            job = session.get(m.PlanningJob, job_id)
            if job is None:
                return "missing"
            if job.cancel_requested:
                raise JobCancelledError("cancelled on request")
            plan = store_plan(Scope(session, organisation_id), day, planned, name, actor)
            job.plan_id = plan.id
            job.status = "succeeded"
            job.finished_at = utcnow()
            job.heartbeat_at = job.finished_at
    except JobCancelledError as exc:
        _finish(db, job_id, "cancelled", str(exc))
        return "cancelled"
    except PlanningError as exc:
        _finish(db, job_id, "failed", str(exc))
        return "failed"
    return "succeeded"


def run_worker(
    database_url: str,
    *,
    poll_s: float = 1.0,
    stop: threading.Event | None = None,
    max_jobs: int | None = None,
) -> int:
    """Runs jobs until ``stop`` is set (or ``max_jobs`` are done); returns how many ran."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    db = Database(database_url)
    failed = recover_interrupted_jobs(db)
    if failed:
        log.warning("marked %d interrupted planning job(s) as failed", failed)
    done = 0
    try:
        while (stop is None or not stop.is_set()) and (max_jobs is None or done < max_jobs):
            with db.sessions() as session:
                job = claim_next_job(session)
                session.commit()
                job_id = job.id if job is not None else None
            if job_id is None:
                if stop is not None:
                    stop.wait(poll_s)
                else:
                    time.sleep(poll_s)
                continue
            log.info("planning job %s", job_id)
            try:
                status = run_job(db, job_id)
            except Exception:  # never let one job end the worker
                log.error("job %s: %s", job_id, traceback.format_exc())
                _finish(db, job_id, "failed", "internal error in the worker")
                status = "failed"
            log.info("planning job %s %s", job_id, status)
            done += 1
    finally:
        db.dispose()
    return done


def _worker_main(database_url: str) -> None:
    with contextlib.suppress(KeyboardInterrupt):
        run_worker(database_url)


def start_worker_process(database_url: str) -> multiprocessing.process.BaseProcess:
    """Starts :func:`run_worker` in a new (spawned) process and returns it."""
    process = multiprocessing.get_context("spawn").Process(
        target=_worker_main, args=(database_url,), name="evfleet-worker", daemon=True
    )
    process.start()
    return process
