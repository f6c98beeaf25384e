"""Several independent searches at once, one per core, keeping the best plan.

Worker ``k`` runs :func:`evfleet.routing.solve.solve` with seed ``seed + k``; worker 0 runs in
the calling process (so progress reports come from it), the others in child processes.
The best plan wins (fewest vehicles first where the objective says so), ties going to the
lowest worker number, so a seed and a worker count give the same result every time when
the searches are bounded by ``max_iterations``.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import Future, ProcessPoolExecutor

from evfleet.problem import Objective, Problem
from evfleet.routing.compilation import compile_kernels
from evfleet.routing.solve import ProgressCallback, solve
from evfleet.solution import Solution


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def _key(problem: Problem, solution: Solution) -> tuple[float, float, float]:
    stats = solution.stats
    infeasible = 0.0 if stats.get("feasible", 0.0) == 1.0 else 1.0
    vehicles = (
        float(solution.num_routes) if problem.objective is Objective.VEHICLES_THEN_DISTANCE else 0.0
    )
    return (infeasible, vehicles, stats.get("objective", float("inf")))


def solve_portfolio(
    problem: Problem,
    *,
    workers: int | None = None,
    time_limit_s: float = 10.0,
    seed: int = 0,
    max_iterations: int | None = None,
    progress: ProgressCallback | None = None,
) -> Solution:
    """Runs ``workers`` independent searches (default: all cores) and returns the best."""
    n = default_workers() if workers is None else workers
    if n < 1:
        raise ValueError("workers must be >= 1")
    if n == 1:
        return solve(
            problem,
            time_limit_s=time_limit_s,
            seed=seed,
            max_iterations=max_iterations,
            progress=progress,
        )
    # Compile (on a first run) before the searches start, so that they load the compiled
    # code instead of each compiling it; the time it takes comes off their budget.
    started = time.monotonic()
    compile_kernels()
    time_limit_s = max(0.0, time_limit_s - (time.monotonic() - started))
    with ProcessPoolExecutor(max_workers=n - 1) as pool:
        futures: list[Future[Solution]] = [
            pool.submit(
                solve,
                problem,
                time_limit_s=time_limit_s,
                seed=seed + k,
                max_iterations=max_iterations,
            )
            for k in range(1, n)
        ]
        results = [
            solve(
                problem,
                time_limit_s=time_limit_s,
                seed=seed,
                max_iterations=max_iterations,
                progress=progress,
            )
        ]
        results.extend(f.result() for f in futures)
    best = min(range(n), key=lambda k: (_key(problem, results[k]), k))
    chosen = results[best]
    stats = dict(chosen.stats)
    stats["workers"] = float(n)
    stats["best_worker"] = float(best)
    stats["iterations_all_workers"] = sum(r.stats.get("iterations", 0.0) for r in results)
    return Solution(chosen.routes, chosen.problem_name, stats)
