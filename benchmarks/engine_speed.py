"""Engine speed: route evaluations per second and ILS iterations per second.

Usage (from the repository root)::

    python benchmarks/engine_speed.py [--instances c101_21 r101_21] [--seconds 10]
        [--eval-seconds 3] [--iterations N] [--reference REV_OR_PATH] [--shared PATH]
        [--seed N]

For each instance (``../shared/benchmarks/evrptw-schneider/<name>.txt``, or a path under
``../shared/benchmarks`` such as ``solomon/R201.100.8.vrptw``) it measures:

* ``eval/s (API)``: :meth:`Evaluator.evaluate` called from Python on a fixed mix of
  routes (the nearest-neighbour plan's routes and random client sequences with a charger
  stop), call overhead included: what construction and recreate see.
* ``eval/s (kernel)``: the same routes evaluated in a compiled loop that calls
  ``evfleet.routing.kernels.evaluate_route`` directly: what the local search sees
  (only where the engine has the kernels).
* ``iter/s``: ILS iterations per second of :func:`evfleet.solve` with a ``--seconds``
  time limit (iterations divided by the solver's elapsed time, construction included).
  With ``--iterations N`` the solve runs exactly N iterations instead (no time limit):
  engines that take the same steps then do the same work, and the rate compares their
  speed alone; in a time limit they part ways after a while.

``--reference`` also measures another version of the engine in the same run, for a
before/after table: a git revision (exported with ``git archive`` into a temporary folder,
e.g. ``--reference HEAD``) or a folder holding ``src/evfleet``. Every engine is measured
in its own process, one after the other; compiled code is warmed up on a small instance
before anything is timed. The machine's load affects all figures: compare the rows of
one run rather than figures from different runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SHARED = REPO_ROOT.parent / "shared" / "benchmarks"


def _routes_for_timing(evaluator: Any, count: int, seed: int) -> list[list[int]]:
    """The nearest-neighbour routes plus random client sequences, some with a charger."""
    from evfleet.routing.construct import nearest_neighbour

    data = evaluator.data
    plan, _ = nearest_neighbour(evaluator)
    routes = [list(r) for r in plan.routes if r]
    rng = random.Random(seed)
    clients = list(range(data.first_client, data.first_charger))
    chargers = list(range(data.first_charger, data.num_locations))
    lengths = [len(r) for r in routes] or [10]
    while len(routes) < count:
        route = rng.sample(clients, min(len(clients), rng.choice(lengths)))
        if chargers and rng.random() < 0.5:
            route.insert(rng.randrange(len(route) + 1), rng.choice(chargers))
        routes.append(route)
    return routes


def _kernel_rate(evaluator: Any, routes: list[list[int]], seconds: float) -> float | None:
    """Evaluations per second inside compiled code, or ``None`` without kernels."""
    try:
        import numpy as np
        from numba import njit

        from evfleet.routing import kernels
    except ImportError:
        return None

    kd = evaluator.kernel_data
    evaluate_route = kernels.evaluate_route

    @njit(cache=False)
    def loop(kd: Any, table: Any, lens: Any, repeats: int) -> float:
        out = np.zeros(kernels.NUM_FIELDS)
        charges = np.zeros(table.shape[1])
        energies = np.zeros(table.shape[1] + 1)
        total = 0.0
        for _ in range(repeats):
            for k in range(table.shape[0]):
                evaluate_route(kd, 0, table[k], lens[k], energies, False, out, charges)
                total += out[0]
        return total

    width = max(len(r) for r in routes)
    table = np.full((len(routes), width), -1, dtype=np.int64)
    for k, r in enumerate(routes):
        table[k, : len(r)] = r
    lens = np.array([len(r) for r in routes], dtype=np.int64)
    loop(kd, table, lens, 1)  # compile
    repeats = 1
    while True:
        started = time.perf_counter()
        loop(kd, table, lens, repeats)
        spent = time.perf_counter() - started
        if spent >= seconds or repeats > 1 << 30:
            return repeats * len(routes) / spent
        repeats *= 2 if spent < seconds / 4 else max(2, int(seconds / max(spent, 1e-9)))


def measure(
    instance: Path, seconds: float, eval_seconds: float, seed: int, iterations: int = 0
) -> dict[str, Any]:
    """Measures one engine (the ``evfleet`` on ``sys.path``) on one instance."""
    from evfleet import solve
    from evfleet.checker import check
    from evfleet.io.instances import read_instance
    from evfleet.routing.data import build_engine_data
    from evfleet.routing.evaluate import Evaluator

    # Solomon files in the DIMACS convention (distance only), as the PyVRP baseline.
    dimacs = "solomon" in instance.parts
    problem = read_instance(instance, convention="dimacs") if dimacs else read_instance(instance)
    evaluator = Evaluator(build_engine_data(problem))
    routes = _routes_for_timing(evaluator, 1000, seed)
    count = 0
    started = time.perf_counter()
    while time.perf_counter() - started < eval_seconds:
        for r in routes:
            evaluator.evaluate(0, r)
        count += len(routes)
    api_rate = count / (time.perf_counter() - started)
    kernel_rate = _kernel_rate(evaluator, routes, eval_seconds)
    if iterations > 0:
        solution = solve(problem, time_limit_s=86400.0, seed=seed, max_iterations=iterations)
    else:
        solution = solve(problem, time_limit_s=seconds, seed=seed)
    report = check(problem, solution)
    iterations = solution.stats["iterations"]
    return {
        "instance": instance.stem,
        "api_evals_per_s": api_rate,
        "kernel_evals_per_s": kernel_rate,
        "iterations": iterations,
        "iterations_per_s": iterations / solution.stats["elapsed_s"],
        "feasible": report.feasible,
        "result": report.objective_text(),
    }


def _worker(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(Path(args.src).resolve()))
    import evfleet
    from evfleet import solve
    from evfleet.io.instances import read_instance

    warm = Path(args.shared) / "evrptw-schneider" / "c101C5.txt"
    started = time.perf_counter()
    if warm.is_file():
        solve(read_instance(warm), time_limit_s=60, seed=0, max_iterations=3)
    warm_up = time.perf_counter() - started
    for name in args.instances:
        path = Path(args.shared) / (name if "/" in name else f"evrptw-schneider/{name}.txt")
        row = measure(path, args.seconds, args.eval_seconds, args.seed, args.iterations)
        row["engine"] = args.label
        row["engine_path"] = str(Path(evfleet.__file__).parent)
        row["warm_up_s"] = warm_up
        print(json.dumps(row), flush=True)
    return 0


def _export(revision: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "archive", revision, "src"],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def _run_engine(label: str, src: Path, args: argparse.Namespace) -> list[dict[str, Any]]:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        "--src",
        str(src),
        "--label",
        label,
        "--shared",
        str(args.shared),
        "--seconds",
        str(args.seconds),
        "--eval-seconds",
        str(args.eval_seconds),
        "--seed",
        str(args.seed),
        "--iterations",
        str(args.iterations),
        "--instances",
        *args.instances,
    ]
    env = dict(os.environ, NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1")
    done = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def _fmt(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", nargs="+", default=["c101_21", "r101_21"])
    parser.add_argument("--seconds", type=float, default=10.0, help="ILS time limit")
    parser.add_argument("--eval-seconds", type=float, default=3.0)
    parser.add_argument(
        "--iterations", type=int, default=0, help="run exactly N iterations (no time limit)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shared", default=str(DEFAULT_SHARED))
    parser.add_argument("--reference", help="git revision or folder to compare with")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--src", default=str(REPO_ROOT / "src"), help=argparse.SUPPRESS)
    parser.add_argument("--label", default="current", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return _worker(args)

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.reference:
            ref = Path(args.reference)
            src = ref / "src" if (ref / "src" / "evfleet").is_dir() else None
            if src is None:
                src = _export(args.reference, Path(tmp))
            rows += _run_engine(f"reference ({args.reference})", src, args)
        rows += _run_engine("current", REPO_ROOT / "src", args)

    width = max(len("engine"), *(len(r["engine"]) for r in rows))
    header = (
        f"{'instance':<10} {'engine':<{width}} {'eval/s (API)':>13} {'eval/s (kernel)':>16} "
        f"{'iter/s':>8} {'iterations':>10}  result"
    )
    print(header)
    print("-" * len(header))
    for row in sorted(rows, key=lambda r: (r["instance"], r["engine"] != "current")):
        print(
            f"{row['instance']:<10} {row['engine']:<{width}} {_fmt(row['api_evals_per_s']):>13} "
            f"{_fmt(row['kernel_evals_per_s']):>16} {_fmt(row['iterations_per_s']):>8} "
            f"{int(row['iterations']):>10}  {row['result']}"
            + ("" if row["feasible"] else "  INFEASIBLE")
        )
    engines = {r["engine"]: r["warm_up_s"] for r in rows}
    print()
    print("warm-up (first solve of c101C5, compilation or cache load included):")
    for engine, seconds in engines.items():
        print(f"  {engine}: {seconds:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
