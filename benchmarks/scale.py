"""Scale benchmark: generated E-VRPTW instances with thousands of customers.

Usage (from the repository root)::

    python benchmarks/scale.py [--sizes 1000,2000,5000] [--limits 10,20,60] [--factor 2]
        [--seed N] [--chargers 50] [--out DIR]

Issue-3 targets: with 1,000, 2,000 and 5,000 customers and 50 chargers, a first feasible
plan within 10, 20 and 60 s, improving after; peak memory at most 2 GB; and how the time
per iteration grows with the number of customers.

:func:`generate` builds a seeded instance directly as an evfleet
:class:`~evfleet.problem.Problem` (no file): one depot in the middle of a square city,
customers half spread uniformly and half in clusters, 50 chargers, time windows,
demands and a van capacity, and a battery that cannot drive a day's route without
charging. It is feasible by construction: every customer can be served by a van of its
own that drives there from the depot at the start of the day and straight back, within
its window, the day and the battery (see :func:`generate`).

Each size is solved in a fresh Python process (so that the peak memory, ``ru_maxrss``,
is that size's alone), once with the issue's time limit and once with ``--factor`` times
it to show the improvement, with progress callbacks recording when the first feasible
plan appeared and the objective over time. The final plan is checked by the independent
checker. Prints a table and writes it to ``benchmarks/results/scale-<timestamp>.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "benchmarks" / "results"

# The generated city and fleet (units: m, s, Wh, kg).
SIDE_M = 40_000.0
"""The square city's side; the depot is in its centre."""
SPEED_M_PER_S = 10.0
"""Driving speed (36 km/h)."""
DAY_S = 10 * 3600.0
"""The depot is open from 0 to this time (a 10-hour day)."""
SERVICE_S = 300.0
WINDOW_S = (3600.0, 3 * 3600.0)
"""Customer windows are this wide (uniform), where the day allows."""
DEMAND_KG = (5, 50)
"""Integer demands, uniform in this range."""
CAPACITY_KG = 1000.0
ENERGY_WH_PER_M = 0.25
"""250 Wh/km."""
BATTERY_WH = 15_000.0
"""60 km of range: the longest out-and-back trip (at most 56.6 km) fits, while a typical
route (about 35 customers, 60 km) is close to the range, so that many routes charge."""
CHARGER_POWER_W = 50_000.0
CLUSTER_SHARE = 0.5
CUSTOMERS_PER_CLUSTER = 100
CLUSTER_SIGMA_M = 1_500.0


def _matrix(xs: np.ndarray, ys: np.ndarray, block: int = 512) -> np.ndarray:
    """Euclidean distances, computed in row blocks to keep temporaries small."""
    n = xs.size
    out = np.empty((n, n))
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        dx = xs[lo:hi, None] - xs[None, :]
        dy = ys[lo:hi, None] - ys[None, :]
        np.sqrt(dx * dx + dy * dy, out=out[lo:hi])
    return out


def generate(n: int, *, chargers: int = 50, seed: int = 0) -> Any:
    """A seeded E-VRPTW :class:`~evfleet.problem.Problem` with ``n`` customers.

    Feasible by construction: customers lie in the city (clipped to it), so every one is
    within about 28.3 km of the depot; its window opens no later than the latest start that
    still gets the van home by the end of the day and closes no earlier than a van driving
    straight from the depot at time 0 arrives; every demand is below the capacity; and the
    out-and-back trip (at most about 56.6 km, 14.1 kWh) fits the 15-kWh battery. A route of
    more than 60 km needs a charging stop. Objective: total distance, fleet size free,
    partial recharge. Same ``n``, ``chargers`` and ``seed``: the same problem.
    """
    from evfleet.charging import ChargingFunction
    from evfleet.problem import (
        Charger,
        Client,
        Depot,
        Metric,
        Objective,
        Problem,
        RechargePolicy,
        VehicleType,
    )

    if n < 1 or chargers < 0:
        raise ValueError("n must be >= 1 and chargers >= 0")
    rng = np.random.default_rng(seed)
    half = SIDE_M / 2.0
    depot_xy = np.array([half, half])
    clustered = round(n * CLUSTER_SHARE)
    clusters = max(1, n // CUSTOMERS_PER_CLUSTER)
    centres = rng.uniform(0.1 * SIDE_M, 0.9 * SIDE_M, size=(clusters, 2))
    pick = rng.integers(0, len(centres), size=clustered)
    around = centres[pick] + rng.normal(0.0, CLUSTER_SIGMA_M, size=(clustered, 2))
    uniform = rng.uniform(0.0, SIDE_M, size=(n - clustered, 2))
    cust = np.clip(np.vstack([around, uniform]), 0.0, SIDE_M)
    cust = cust[rng.permutation(n)]
    # Chargers on a jittered grid, so that every part of the city has one nearby.
    side = max(1, math.ceil(math.sqrt(chargers)))
    cells = rng.permutation(side * side)[:chargers]
    cx = (cells % side + rng.uniform(0.2, 0.8, size=chargers)) * SIDE_M / side
    cy = (cells // side + rng.uniform(0.2, 0.8, size=chargers)) * SIDE_M / side
    sites = np.vstack([depot_xy[None, :], cust, np.column_stack([cx, cy])])
    dist = _matrix(sites[:, 0], sites[:, 1])
    duration = dist / SPEED_M_PER_S

    demand = rng.integers(DEMAND_KG[0], DEMAND_KG[1] + 1, size=n)
    width = rng.uniform(*WINDOW_S, size=n)
    out = duration[0, 1 : n + 1]  # depot to customer
    back = duration[1 : n + 1, 0]
    earliest = out  # arrival driving straight from the depot at time 0
    latest = DAY_S - SERVICE_S - back  # last start that still gets home in time
    centre = rng.uniform(earliest, latest)
    early = np.maximum(0.0, np.minimum(centre - width / 2.0, latest - width))
    late = np.minimum(latest, np.maximum(centre + width / 2.0, earliest + width))
    early = np.floor(np.minimum(early, latest))
    late = np.maximum(np.floor(late), np.ceil(earliest))

    clients = tuple(
        Client(
            f"C{k + 1}",
            float(cust[k, 0]),
            float(cust[k, 1]),
            float(demand[k]),
            SERVICE_S,
            float(early[k]),
            float(late[k]),
        )
        for k in range(n)
    )
    rate = ChargingFunction.from_power(CHARGER_POWER_W)
    stations = tuple(
        Charger(f"S{k}", float(cx[k]), float(cy[k]), rate, 1, 0.0, 0.0, DAY_S)
        for k in range(chargers)
    )
    van = VehicleType(
        name="e-van",
        count=None,
        capacity_kg=CAPACITY_KG,
        battery_wh=BATTERY_WH,
        energy_wh_per_m=ENERGY_WH_PER_M,
        shift_start_s=0.0,
        shift_end_s=DAY_S,
    )
    return Problem(
        name=f"scale-n{n}-s{chargers}-seed{seed}",
        depots=(Depot("D0", float(half), float(half), 0.0, DAY_S),),
        clients=clients,
        chargers=stations,
        vehicle_types=(van,),
        distance_m=dist,
        duration_s=duration,
        objective=Objective.DISTANCE,
        recharge=RechargePolicy.PARTIAL,
        metric=Metric("euclidean", None, SPEED_M_PER_S),
    )


# --------------------------------------------------------------------------------------
# One run (in its own process)


def _rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_one(n: int, time_limit_s: float, seed: int, chargers: int) -> dict[str, Any]:
    """Generates, solves with progress callbacks, and checks one instance."""
    from evfleet.checker import check
    from evfleet.routing.solve import Progress, solve

    started = time.perf_counter()
    problem = generate(n, chargers=chargers, seed=seed)
    generated_s = time.perf_counter() - started
    rss_problem = _rss_mib()
    trace: list[tuple[float, int, float, int]] = []
    first: list[float] = []

    def progress(p: Progress) -> None:
        if p.feasible and not first:
            first.append(p.elapsed_s)
        if p.feasible and (not trace or p.objective < trace[-1][2] - 1e-9):
            trace.append((round(p.elapsed_s, 3), p.iteration, p.objective, p.vehicles))

    solved_at = time.perf_counter()
    solution = solve(problem, time_limit_s=time_limit_s, seed=seed, progress=progress)
    solve_s = time.perf_counter() - solved_at
    report = check(problem, solution)
    stats = solution.stats
    return {
        "n": n,
        "chargers": chargers,
        "seed": seed,
        "time_limit_s": time_limit_s,
        "generate_s": generated_s,
        "solve_s": solve_s,
        "first_feasible_s": first[0] if first else None,
        "first_objective": trace[0][2] if trace else None,
        "final_objective": report.objective_value,
        "vehicles": report.vehicles,
        "feasible": report.feasible,
        "violations": [str(v) for v in report.violations[:3]],
        "iterations": stats.get("iterations"),
        "search_start_s": stats.get("search_start_s"),
        "trace": trace,
        "rss_after_problem_mib": rss_problem,
        "peak_rss_mib": _rss_mib(),
        "charging_stops": sum(
            1 for r in solution.routes for v in r.visits if problem.is_charger(v.location)
        ),
    }


@dataclass
class Case:
    n: int
    time_limit_s: float
    result: dict[str, Any] = field(default_factory=dict)
    error: str = ""


def _child(n: int, time_limit_s: float, seed: int, chargers: int) -> dict[str, Any]:
    """Runs :func:`run_one` in a fresh interpreter and returns its JSON result."""
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        env.setdefault(var, "1")
    proc = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--one",
            f"{n},{time_limit_s},{seed},{chargers}",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=time_limit_s * 3 + 600,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _iter_rate(result: dict[str, Any]) -> float | None:
    """Iterations per second of search after the first plan (construction excluded)."""
    its = result.get("iterations")
    start = result.get("search_start_s")
    if not its or start is None:
        return None
    span = result["solve_s"] - start
    return its / span if span > 0 else None


HEADERS = (
    "customers",
    "limit s",
    "first feasible s",
    "first plan (km)",
    "search starts s",
    "after first local search (km)",
    "final (km)",
    "improvement after the first local search %",
    "vehicles",
    "charging stops",
    "iterations",
    "ms / iteration",
    "peak RSS MiB",
    "checked",
)


def table_cells(case: Case) -> list[str]:
    r = case.result
    if not r:
        return [str(case.n), f"{case.time_limit_s:g}", *["-"] * 11, f"FAILED: {case.error}"]
    first = r.get("first_objective")
    final = r.get("final_objective")
    start = r.get("search_start_s")
    # The best objective when the search loop started (after the first local search).
    before = [
        obj for t, _, obj, _ in r.get("trace", []) if start is not None and t <= start + 0.001
    ]
    searched = before[-1] if before else None
    impr = 100.0 * (searched - final) / searched if searched and final is not None else None
    rate = _iter_rate(r)
    return [
        f"{case.n:,}",
        f"{case.time_limit_s:g}",
        "-" if r["first_feasible_s"] is None else f"{r['first_feasible_s']:.1f}",
        "-" if first is None else f"{first / 1000:,.1f}",
        "-" if start is None else f"{start:.1f}",
        "-" if searched is None else f"{searched / 1000:,.1f}",
        f"{final / 1000:,.1f}",
        "-" if impr is None else f"{impr:.1f}",
        str(r["vehicles"]),
        str(r["charging_stops"]),
        f"{r['iterations']:.0f}" if r.get("iterations") is not None else "-",
        "-" if not rate else f"{1000.0 / rate:.0f}",
        f"{r['peak_rss_mib']:.0f}",
        "feasible" if r["feasible"] else "INFEASIBLE",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/scale.py", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,2000,5000", help="customer counts")
    parser.add_argument("--limits", default="10,20,60", help="time limit per size, s")
    parser.add_argument(
        "--factor", type=float, default=2.0, help="also run with this multiple (0: skip)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--chargers", type=int, default=50)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--render", metavar="JSON", help="print the table of an earlier run")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        n, limit, seed, chargers = args.one.split(",")
        print(json.dumps(run_one(int(n), float(limit), int(seed), int(chargers))))
        return 0
    sizes = [int(x) for x in args.sizes.split(",")]
    limits = [float(x) for x in args.limits.split(",")]
    if len(limits) != len(sizes):
        parser.error("--limits needs one value per size")
    cases = []
    for n, limit in zip(sizes, limits, strict=True):
        cases.append(Case(n, limit))
        if args.factor > 0:
            cases.append(Case(n, limit * args.factor))
    started = dt.datetime.now().astimezone()
    if args.render:
        # Only the table again, from the JSON file of an earlier run.
        cases = []
        for item in json.loads(Path(args.render).read_text(encoding="utf-8")):
            n, limit = item.pop("n"), item.pop("limit")
            cases.append(Case(n, limit, item if "feasible" in item else {}))
        print(" | ".join(HEADERS))
        for case in cases:
            print(" | ".join(table_cells(case)))
        return 0
    for case in cases:  # one solver process at a time
        try:
            case.result = _child(case.n, case.time_limit_s, args.seed, args.chargers)
        except (RuntimeError, subprocess.SubprocessError, ValueError) as exc:
            case.error = str(exc)
        print(" | ".join(table_cells(case)), flush=True)
    lines = [
        f"# Scale benchmark ({started.isoformat(timespec='seconds')})",
        "",
        f"- command: `{' '.join(['benchmarks/scale.py', *(argv or sys.argv[1:])])}`",
        f"- seed {args.seed}, {args.chargers} chargers",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "|".join(["---:"] * len(HEADERS)) + "|",
        *("| " + " | ".join(table_cells(c)) + " |" for c in cases),
        "",
        "Objective over time (elapsed s, iteration, km, vehicles), each improvement:",
        "",
    ]
    for c in cases:
        trace = c.result.get("trace", []) if c.result else []
        shown = ", ".join(f"{t:.1f} s {it} {obj / 1000:,.1f} km {v}" for t, it, obj, v in trace)
        lines.append(f"- {c.n:,} customers, {c.time_limit_s:g} s: {shown or '-'}")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"scale-{started.strftime('%Y%m%d-%H%M%S')}.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (path.with_suffix(".json")).write_text(
        json.dumps([{"n": c.n, "limit": c.time_limit_s, **c.result} for c in cases], indent=1),
        encoding="utf-8",
    )
    print(f"results: {path}")
    return 0 if all(c.result and c.result["feasible"] for c in cases) else 1


if __name__ == "__main__":
    sys.exit(main())
