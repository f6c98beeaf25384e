"""Benchmark harness: solve a literature set, check every plan, compare with the best known.

Usage (from the repository root)::

    python benchmarks/run.py SET --time-limit S [--runs K] [--jobs J] [--workers W] [--seed N]
        [--filter GLOB] [--recharge full|partial] [--convention hierarchical|dimacs]
        [--baseline pyvrp|routingblocks] [--shared PATH] [--out DIR]

``SET`` is one of :data:`SETS`. The instances live in ``../shared/benchmarks/<folder>``
relative to the repository root (``--shared`` points elsewhere). Every instance is solved
``K`` times with seeds ``N .. N+K-1``; the runs are spread over ``J`` worker processes, each
solve single-threaded unless ``--workers W`` gives it ``W`` cores (evfleet's portfolio).
Every plan is checked by :func:`evfleet.checker.check` (the solver's own figures are not
used) and compared with :func:`evfleet.io.instances.bks_for`.

With ``--baseline NAME`` a reference solver (:mod:`baselines`: PyVRP on Solomon with the
DIMACS convention, RoutingBlocks' EVRPTW-PR ALNS on ten Schneider instances with partial
recharge) solves the same instances with the same time limit and seeds in the same run, its
plans checked by the same checker, and both gaps are printed side by side with their means.
The baseline packages are optional (``pip install -e '.[bench]'``).

Prints a table and writes it as CSV and Markdown to
``benchmarks/results/<set>-<timestamp>`` (``--out`` elsewhere), and every plan as
solution JSON to ``<set>-<timestamp>-plans/`` (``<solver>-<instance>-seed<seed>.json``;
``evfleet check INSTANCE PLAN`` checks one again). Exit status: 0 when every run gave a
feasible plan, 1 when some run was infeasible or failed, 2 for bad arguments or no
instances.

The functions are importable (see ``tests/test_benchmark_harness.py``); ``evfleet`` itself
is imported only where instances are read and solved.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import fnmatch
import functools
import importlib.util
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from rich.console import Console
from rich.markup import escape
from rich.table import Table

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SHARED = REPO_ROOT.parent / "shared" / "benchmarks"
DEFAULT_OUT = REPO_ROOT / "benchmarks" / "results"

# Variables that make numerical libraries use one thread; set before they are imported.
_SINGLE_THREAD_ENV = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)

REACHED_GAP_PCT = 0.005
"""A run reaches the best known value when its gap is at most this many per cent."""


@dataclass(frozen=True)
class BenchmarkSet:
    folder: str
    patterns: tuple[str, ...]
    description: str


SETS: dict[str, BenchmarkSet] = {
    "schneider": BenchmarkSet(
        "evrptw-schneider", ("*.txt",), "Schneider et al. (2014) E-VRPTW, all 92 instances"
    ),
    "schneider-small": BenchmarkSet(
        "evrptw-schneider",
        ("*C5.txt", "*C10.txt", "*C15.txt"),
        "Schneider et al. (2014) E-VRPTW, 5/10/15 customers (36 instances)",
    ),
    "schneider-large": BenchmarkSet(
        "evrptw-schneider", ("*_21.txt",), "Schneider et al. (2014) E-VRPTW, 100 customers (56)"
    ),
    "wcci": BenchmarkSet("evrp-wcci2020", ("*.evrp",), "IEEE WCCI-2020 E-CVRP (17 instances)"),
    "montoya": BenchmarkSet(
        "evrp-nl-montoya", ("*.xml",), "Montoya et al. (2017) E-VRP-NL (120 instances)"
    ),
    "solomon": BenchmarkSet("solomon", ("*.vrptw",), "Solomon (1987) VRPTW, 100 customers (56)"),
}


def instance_name(path: Path) -> str:
    """The instance's name as used in ``bks.csv``: the file name without its extension(s)."""
    name = path.name
    for suffix in (".txt", ".evrp", ".xml", ".vrptw"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    # Solomon files are <NAME>.100.<K>.vrptw
    return name.split(".")[0]


def select_instances(
    set_name: str, shared: Path = DEFAULT_SHARED, glob: str | None = None
) -> list[Path]:
    """The instance files of ``set_name`` under ``shared``, sorted by name.

    ``glob`` keeps only instances whose name or file name matches it (``fnmatch`` syntax).
    Raises ``KeyError`` for an unknown set and ``FileNotFoundError`` for a missing folder.
    """
    spec = SETS[set_name]
    folder = shared / spec.folder
    if not folder.is_dir():
        raise FileNotFoundError(f"benchmark folder {folder} does not exist")
    found = {p for pattern in spec.patterns for p in folder.glob(pattern) if p.is_file()}
    if glob is not None:
        found = {
            p
            for p in found
            if fnmatch.fnmatchcase(instance_name(p), glob) or fnmatch.fnmatchcase(p.name, glob)
        }
    return sorted(found, key=lambda p: p.name)


# --------------------------------------------------------------------------------------
# One run: read, solve, check (executed in a worker process)


@dataclass(frozen=True)
class RunResult:
    """What one solve of one instance gave, as judged by the checker."""

    instance: str
    seed: int
    feasible: bool = False
    value: float | None = None
    vehicles: int | None = None
    seconds: float | None = None
    objective: str = ""
    hierarchical: bool = False
    bks_cost: float | None = None
    bks_vehicles: int | None = None
    error: str | None = None
    """Why the run has no checked plan (an exception), or the checker's first violations."""
    iterations: float | None = None
    """Search iterations the solver reported (its ``stats["iterations"]``)."""


EVFLEET = "evfleet"
"""The solver name of evfleet's own engine (the others: :data:`baselines.BASELINES`)."""


def _load_baselines() -> ModuleType:
    """``benchmarks/baselines.py`` as a module (this folder is not a package)."""
    name = "evfleet_benchmarks_baselines"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("baselines.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def run_once(
    path: str,
    seed: int,
    time_limit_s: float,
    recharge: str | None = None,
    convention: str | None = None,
    solver: str = EVFLEET,
    per_customer_s: float = 0.0,
    workers: int = 1,
    plans_dir: str | None = None,
) -> RunResult:
    """Reads ``path``, solves it with ``seed`` and checks the plan. Never raises.

    ``solver`` is :data:`EVFLEET` or the name of a baseline (:data:`baselines.BASELINES`),
    which gets the same problem and whose plan is checked the same way. With
    ``per_customer_s`` the time limit is the larger of ``time_limit_s`` and that many
    seconds per customer (the WCCI-2020 protocol: n/10 s, at least 5 s). ``workers`` > 1
    runs evfleet's portfolio (``evfleet solve --workers``: that many independent searches
    with seeds ``seed`` .. ``seed + workers - 1``, one per core, the best kept). With
    ``plans_dir`` the plan is written there as evfleet solution JSON,
    ``<solver>-<instance>-seed<seed>.json``, so that a figure can be checked again later
    (``evfleet check INSTANCE PLAN``)."""
    name = instance_name(Path(path))
    objective, hierarchical = "", False
    bks_cost: float | None = None
    bks_vehicles: int | None = None
    try:
        from evfleet.checker import check
        from evfleet.io.instances import bks_for, read_instance
        from evfleet.problem import Objective
        from evfleet.routing.portfolio import solve_portfolio
        from evfleet.routing.solve import solve

        problem = read_instance(path, recharge=recharge, convention=convention)
        objective = Objective(problem.objective).value
        hierarchical = problem.objective is Objective.VEHICLES_THEN_DISTANCE
        bks = bks_for(path, recharge=recharge, convention=convention)
        if bks is not None:
            # In the set's own units, as bks.csv lists it and as the checker reports the
            # objective (Montoya: hours; ``cost`` holds seconds there).
            listed = getattr(bks, "listed_cost", None)
            bks_cost = float(bks.cost if listed is None else listed)
            bks_vehicles = None if bks.vehicles is None else int(bks.vehicles)
        time_limit_s = max(time_limit_s, per_customer_s * problem.num_clients)
        start = time.perf_counter()
        if solver == EVFLEET and workers > 1:
            solution = solve_portfolio(
                problem, workers=workers, time_limit_s=time_limit_s, seed=seed
            )
        elif solver == EVFLEET:
            solution = solve(problem, time_limit_s=time_limit_s, seed=seed)
        else:
            solution = _load_baselines().BASELINES[solver].solve(problem, time_limit_s, seed)
        seconds = time.perf_counter() - start
        report = check(problem, solution)
        if plans_dir is not None:
            from evfleet.io.solution_json import write_solution

            write_solution(solution, problem, Path(plans_dir) / f"{solver}-{name}-seed{seed}.json")
    except Exception as exc:  # one instance's failure must not stop the benchmark
        last = traceback.extract_tb(exc.__traceback__)[-1:]
        where = f" at {Path(last[0].filename).name}:{last[0].lineno}" if last else ""
        return RunResult(
            instance=name,
            seed=seed,
            objective=objective,
            hierarchical=hierarchical,
            bks_cost=bks_cost,
            bks_vehicles=bks_vehicles,
            error=f"{type(exc).__name__}: {exc}{where}",
        )
    error = None
    if not report.feasible:
        violations = [str(v) for v in report.violations]
        error = "; ".join(violations[:3]) + (" ..." if len(violations) > 3 else "")
    return RunResult(
        instance=name,
        seed=seed,
        feasible=bool(report.feasible),
        value=float(report.objective_value),
        vehicles=int(report.vehicles),
        seconds=seconds,
        objective=objective,
        hierarchical=hierarchical,
        bks_cost=bks_cost,
        bks_vehicles=bks_vehicles,
        error=(error or "infeasible") if not report.feasible else None,
        iterations=solution.stats.get("iterations"),
    )


# --------------------------------------------------------------------------------------
# One row per instance


@dataclass
class Row:
    """The runs of one instance, summarised."""

    instance: str
    runs: list[RunResult] = field(default_factory=list)

    def _first(self, attr: str) -> object:
        for r in self.runs:
            value = getattr(r, attr)
            if value not in (None, ""):
                return value
        return None

    @property
    def objective(self) -> str:
        value = self._first("objective")
        return str(value) if value is not None else ""

    @property
    def hierarchical(self) -> bool:
        return any(r.hierarchical for r in self.runs)

    @property
    def bks_cost(self) -> float | None:
        value = self._first("bks_cost")
        return float(value) if isinstance(value, float | int) else None

    @property
    def bks_vehicles(self) -> int | None:
        value = self._first("bks_vehicles")
        return int(value) if isinstance(value, int) else None

    @property
    def feasible(self) -> bool:
        """True when every run gave a plan the checker accepts."""
        return bool(self.runs) and all(r.feasible for r in self.runs)

    @property
    def failed(self) -> bool:
        """True when some run gave no plan at all (an exception)."""
        return any(r.value is None for r in self.runs)

    @property
    def error(self) -> str:
        errors = [f"seed {r.seed}: {r.error}" for r in self.runs if r.error]
        return " | ".join(errors)

    def _good(self) -> list[RunResult]:
        return [r for r in self.runs if r.feasible and r.value is not None]

    @property
    def best(self) -> RunResult | None:
        """The best feasible run: fewest vehicles first for hierarchical objectives."""
        good = self._good()
        if not good:
            return None
        if self.hierarchical:
            return min(good, key=lambda r: (r.vehicles or 0, r.value or 0.0))
        return min(good, key=lambda r: r.value or 0.0)

    @property
    def mean_value(self) -> float | None:
        good = self._good()
        return statistics.fmean(r.value for r in good if r.value is not None) if good else None

    @property
    def mean_vehicles(self) -> float | None:
        good = [r.vehicles for r in self._good() if r.vehicles is not None]
        return statistics.fmean(good) if good else None

    @property
    def iterations(self) -> float | None:
        """Mean search iterations per run, as the solver reported them."""
        counts = [r.iterations for r in self.runs if r.iterations is not None]
        return statistics.fmean(counts) if counts else None

    @property
    def seconds(self) -> float | None:
        """Mean solve time per run in seconds."""
        times = [r.seconds for r in self.runs if r.seconds is not None]
        return statistics.fmean(times) if times else None

    @property
    def gap_best(self) -> float | None:
        best = self.best
        return gap_pct(best.value if best else None, self.bks_cost)

    @property
    def gap_mean(self) -> float | None:
        return gap_pct(self.mean_value, self.bks_cost)

    @property
    def vehicles_equal_bks(self) -> bool | None:
        """Whether the best run uses as many vehicles as the best known (None: not comparable)."""
        best = self.best
        if best is None or self.bks_vehicles is None:
            return None
        return best.vehicles == self.bks_vehicles

    @property
    def reached_bks(self) -> bool | None:
        """Whether the best run reaches the best-known value (None: no best known)."""
        best = self.best
        if self.bks_cost is None or best is None:
            return None if self.bks_cost is None else False
        if (
            self.hierarchical
            and self.bks_vehicles is not None
            and (best.vehicles is None or best.vehicles > self.bks_vehicles)
        ):
            return False
        return reaches(best.value, self.bks_cost)


def gap_pct(value: float | None, bks: float | None) -> float | None:
    """``100 * (value - bks) / bks``; None when either is missing or ``bks`` is 0."""
    if value is None or bks is None or bks == 0:
        return None
    return 100.0 * (value - bks) / bks


def reaches(value: float | None, bks: float | None) -> bool:
    """Whether ``value`` is within 0.005 % of ``bks`` (or better), or equal at 2 decimals."""
    gap = gap_pct(value, bks)
    if gap is None or value is None or bks is None:
        return False
    return gap <= REACHED_GAP_PCT or round(value, 2) == round(bks, 2)


def _init_worker() -> None:
    for var in _SINGLE_THREAD_ENV:
        os.environ.setdefault(var, "1")


def warm_up() -> float:
    """Compiles evfleet's kernels (or loads them from the on-disk cache) with a solve of a
    three-client problem; returns the seconds it took. Run before the timed solves, in the
    parent process so that forked workers inherit the compiled code: otherwise the first
    solve in each worker spends its time limit compiling (about 30 s after any change to
    the kernels)."""
    from evfleet.model import Model
    from evfleet.routing.solve import solve

    started = time.perf_counter()
    m = Model("warm-up")
    m.add_depot(0, 0)
    for x, y in ((3, 4), (6, 0), (0, 5)):
        m.add_client(x, y, demand_kg=1)
    m.add_charger(2, 2)
    m.add_vehicle_type(name="ev", capacity_kg=10, battery_wh=100, energy_wh_per_m=1.0)
    solve(m.data(), time_limit_s=600, seed=0, max_iterations=2)
    return time.perf_counter() - started


def run_benchmark(
    paths: Sequence[Path],
    *,
    time_limit_s: float,
    runs: int = 1,
    jobs: int = 1,
    seed: int = 0,
    recharge: str | None = None,
    convention: str | None = None,
    on_done: Callable[[RunResult, int, int], None] | None = None,
    solver: str = EVFLEET,
    per_customer_s: float = 0.0,
    workers: int = 1,
    plans_dir: str | None = None,
) -> list[Row]:
    """Solves every instance ``runs`` times (seeds ``seed..seed+runs-1``) and checks each plan.

    With ``jobs == 1`` everything runs in this process; otherwise the runs are spread over a
    :class:`ProcessPoolExecutor` of ``jobs`` workers. ``on_done(result, done, total)`` is
    called after each run. Rows come back in the order of ``paths``. ``solver`` picks
    evfleet (default) or a baseline, ``workers`` the cores of each evfleet solve
    (:func:`run_once`), ``plans_dir`` where the plans are written (:func:`run_once`).
    """
    if runs < 1 or jobs < 1:
        raise ValueError("runs and jobs must be at least 1")
    tasks = [(str(p), seed + k) for p in paths for k in range(runs)]
    rows = {instance_name(p): Row(instance_name(p)) for p in paths}
    done = 0

    def record(result: RunResult) -> None:
        nonlocal done
        done += 1
        rows[result.instance].runs.append(result)
        if on_done is not None:
            on_done(result, done, len(tasks))

    _init_worker()  # in-process runs, and inherited by forked workers
    if solver == EVFLEET:
        warm_up()
    # Everything but the instance and the seed (a partial of a module-level function
    # pickles, for the worker processes).
    solve_one = functools.partial(
        run_once,
        time_limit_s=time_limit_s,
        recharge=recharge,
        convention=convention,
        solver=solver,
        per_customer_s=per_customer_s,
        workers=workers,
        plans_dir=plans_dir,
    )
    if jobs == 1:
        for path, s in tasks:
            record(solve_one(path, s))
    else:
        with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker) as pool:
            futures: dict[Future[RunResult], tuple[str, int]] = {
                pool.submit(solve_one, path, s): (path, s) for path, s in tasks
            }
            for future in as_completed(futures):
                path, s = futures[future]
                try:
                    result = future.result()
                except Exception as exc:  # e.g. a worker killed by the OS
                    result = RunResult(
                        instance_name(Path(path)), s, error=f"{type(exc).__name__}: {exc}"
                    )
                record(result)
    for row in rows.values():
        row.runs.sort(key=lambda r: r.seed)
    return list(rows.values())


# --------------------------------------------------------------------------------------
# Summary and output


@dataclass(frozen=True)
class Summary:
    instances: int
    feasible: int
    failed: int
    with_bks: int
    mean_gap_best: float | None
    mean_gap_mean: float | None
    vehicles_comparable: int
    vehicles_equal: int
    reached: int

    @property
    def all_feasible(self) -> bool:
        return self.instances > 0 and self.feasible == self.instances

    def lines(self) -> list[str]:
        def pct(x: float | None) -> str:
            return "n/a" if x is None else f"{x:.3f} %"

        return [
            f"instances: {self.instances} (failed: {self.failed})",
            f"mean gap to best known, best of runs: {pct(self.mean_gap_best)}",
            f"mean gap to best known, mean of runs: {pct(self.mean_gap_mean)}",
            f"vehicles equal to best known: {self.vehicles_equal} / {self.vehicles_comparable}",
            f"best known reached (gap <= {REACHED_GAP_PCT} % or equal at 2 decimals): "
            f"{self.reached} / {self.with_bks}",
            f"all feasible: {'yes' if self.all_feasible else 'no'}"
            f" ({self.feasible} / {self.instances})",
        ]


def summarize(rows: Sequence[Row]) -> Summary:
    gaps_best = [g for r in rows if (g := r.gap_best) is not None]
    gaps_mean = [g for r in rows if (g := r.gap_mean) is not None]
    veh = [r.vehicles_equal_bks for r in rows if r.vehicles_equal_bks is not None]
    return Summary(
        instances=len(rows),
        feasible=sum(r.feasible for r in rows),
        failed=sum(r.failed for r in rows),
        with_bks=sum(r.bks_cost is not None for r in rows),
        mean_gap_best=statistics.fmean(gaps_best) if gaps_best else None,
        mean_gap_mean=statistics.fmean(gaps_mean) if gaps_mean else None,
        vehicles_comparable=len(veh),
        vehicles_equal=sum(veh),
        reached=sum(r.reached_bks is True for r in rows),
    )


def _num(x: float | None, digits: int = 2) -> str:
    return "" if x is None else f"{x:.{digits}f}"


def _int(x: int | None) -> str:
    return "" if x is None else str(x)


HEADERS = (
    "instance",
    "BKS veh / value",
    "ours best",
    "ours mean",
    "gap % best",
    "gap % mean",
    "veh ours / BKS",
    "s / run",
    "feasible",
)


def table_cells(row: Row) -> list[str]:
    """The cells of ``row`` in the order of :data:`HEADERS`."""
    best = row.best
    bks = _num(row.bks_cost)
    if row.bks_cost is not None and row.bks_vehicles is not None:
        bks = f"{row.bks_vehicles} / {bks}"
    vehicles = _int(best.vehicles if best else None)
    if row.bks_vehicles is not None:
        vehicles = f"{vehicles or '-'} / {row.bks_vehicles}"
    return [
        row.instance,
        bks or "-",
        _num(best.value if best else None) or "-",
        _num(row.mean_value) or "-",
        _num(row.gap_best, 3) or "-",
        _num(row.gap_mean, 3) or "-",
        vehicles or "-",
        _num(row.seconds, 1) or "-",
        "yes" if row.feasible else ("FAILED" if row.failed else "NO"),
    ]


def rich_table(rows: Sequence[Row], title: str) -> Table:
    table = Table(title=title)
    for i, header in enumerate(HEADERS):
        table.add_column(header, justify="left" if i == 0 else "right", no_wrap=i == 0)
    for row in rows:
        cells = table_cells(row)
        style = None if row.feasible else "bold red"
        table.add_row(*cells, style=style)
    return table


CSV_FIELDS = (
    "instance",
    "objective",
    "bks_vehicles",
    "bks_value",
    "best_vehicles",
    "best_value",
    "mean_vehicles",
    "mean_value",
    "gap_best_pct",
    "gap_mean_pct",
    "vehicles_equal_bks",
    "reached_bks",
    "seconds_per_run",
    "runs",
    "feasible_runs",
    "feasible",
    "error",
)


def csv_record(row: Row) -> dict[str, object]:
    best = row.best

    def opt(x: object) -> object:
        return "" if x is None else x

    return {
        "instance": row.instance,
        "objective": row.objective,
        "bks_vehicles": opt(row.bks_vehicles),
        "bks_value": opt(row.bks_cost),
        "best_vehicles": opt(best.vehicles if best else None),
        "best_value": opt(best.value if best else None),
        "mean_vehicles": opt(row.mean_vehicles),
        "mean_value": opt(row.mean_value),
        "gap_best_pct": opt(row.gap_best),
        "gap_mean_pct": opt(row.gap_mean),
        "vehicles_equal_bks": opt(row.vehicles_equal_bks),
        "reached_bks": opt(row.reached_bks),
        "seconds_per_run": opt(row.seconds),
        "runs": len(row.runs),
        "feasible_runs": sum(r.feasible for r in row.runs),
        "feasible": row.feasible,
        "error": row.error,
    }


def write_csv(rows: Iterable[Row], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow(csv_record(row))


def machine_description() -> str:
    """CPU count and model, memory, OS and Python: enough to compare timings fairly."""
    cpus = os.cpu_count() or 0
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        ram_text = f"{ram:.1f} GiB RAM"
    except (ValueError, OSError, AttributeError):
        ram_text = "RAM unknown"
    cpu_text = f"{cpus} CPUs" + (f" ({model})" if model else "")
    return (
        f"{cpu_text}, {ram_text}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def git_revision() -> str:
    """The commit the code was at, with ``-dirty`` for uncommitted changes; '' if unknown."""
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return rev + ("-dirty" if dirty else "")


def revision_line(at_start: str | None) -> str:
    """The revision for a results file: the one the run started at (``at_start``; the
    workers run that code), and the one now when the checkout moved on meanwhile."""
    now = git_revision()
    if at_start is None or at_start == now:
        return now or "unknown"
    return f"{at_start or 'unknown'} at the start ({now or 'unknown'} when the run ended)"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write_markdown(
    rows: Sequence[Row],
    path: Path,
    *,
    set_name: str,
    command: str,
    started: dt.datetime,
    time_limit_s: float,
    runs: int,
    jobs: int,
    workers: int = 1,
    revision: str | None = None,
) -> None:
    summary = summarize(rows)
    lines = [
        f"# Benchmark `{set_name}`: {SETS[set_name].description}",
        "",
        f"- date: {started.isoformat(timespec='seconds')}",
        f"- command: `{command}`",
        f"- machine: {machine_description()}",
        f"- evfleet revision: {revision_line(revision)}",
        f"- time limit {time_limit_s:g} s per run, {runs} run(s) per instance, {jobs} job(s), "
        f"{workers} core(s) per evfleet run",
        f"- objective: {', '.join(sorted({r.objective for r in rows if r.objective})) or '-'}",
        "",
        *(f"- {line}" for line in summary.lines()),
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(HEADERS) - 1)) + "|",
    ]
    lines += ["| " + " | ".join(_md_cell(c) for c in table_cells(r)) + " |" for r in rows]
    problems = [r for r in rows if r.error]
    if problems:
        lines += ["", "## Infeasible or failed runs", ""]
        lines += [f"- `{r.instance}`: {_md_cell(r.error)}" for r in problems]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------------------
# Side by side with a baseline


BASELINE_TARGETS: dict[str, tuple[float, bool, str]] = {
    "pyvrp": (0.5, False, "ours at most PyVRP's mean gap plus 0.5 percentage points"),
    "routingblocks": (0.0, True, "ours a lower mean gap than RoutingBlocks"),
}
"""Issue-3 target per baseline: (margin in percentage points, strict, wording)."""

COMPARISON_HEADERS = (
    "instance",
    "BKS veh / value",
    "ours veh / value",
    "ours gap %",
    "base veh / value",
    "base gap %",
    "ours it / s",
    "base it / s",
    "feasible ours / base",
)


def _veh_value(vehicles: int | None, value: float | None, hierarchical: bool) -> str:
    if value is None:
        return "-"
    return f"{vehicles} / {value:.2f}" if hierarchical and vehicles is not None else f"{value:.2f}"


def comparison_cells(ours: Row, base: Row) -> list[str]:
    """One instance, ours and the baseline's best runs side by side."""
    hier = ours.hierarchical or base.hierarchical
    bks_cost = ours.bks_cost if ours.bks_cost is not None else base.bks_cost
    bks_veh = ours.bks_vehicles if ours.bks_vehicles is not None else base.bks_vehicles
    ob, bb = ours.best, base.best

    def rate(row: Row) -> str:
        if row.iterations is None or not row.seconds:
            return "-"
        return f"{row.iterations / row.seconds:.0f}"

    def verdict(row: Row) -> str:
        return "yes" if row.feasible else ("FAILED" if row.failed else "NO")

    return [
        ours.instance,
        _veh_value(bks_veh, bks_cost, hier and bks_veh is not None),
        _veh_value(ob.vehicles if ob else None, ob.value if ob else None, hier),
        _num(ours.gap_best, 3) or "-",
        _veh_value(bb.vehicles if bb else None, bb.value if bb else None, hier),
        _num(base.gap_best, 3) or "-",
        rate(ours),
        rate(base),
        f"{verdict(ours)} / {verdict(base)}",
    ]


@dataclass(frozen=True)
class Comparison:
    """Mean gaps of evfleet and a baseline over the instances where both have a gap."""

    baseline: str
    instances: int
    compared: int
    ours_mean_gap: float | None
    base_mean_gap: float | None
    ours_feasible: int
    base_feasible: int
    ours_vehicles_equal: int
    base_vehicles_equal: int
    vehicles_comparable: int
    hierarchical: bool = False
    matched: int = 0
    """Instances where both best runs use the best-known vehicle count."""
    ours_mean_gap_matched: float | None = None
    base_mean_gap_matched: float | None = None
    wins: int = 0
    """Instances where ours is better: fewer vehicles, or as many and less distance
    (hierarchical objectives), or a smaller objective value (by more than 0.005 %)."""
    ties: int = 0
    losses: int = 0

    @property
    def target_met(self) -> bool | None:
        """Whether the issue-3 target for this baseline holds (None: nothing to compare)."""
        if self.ours_mean_gap is None or self.base_mean_gap is None:
            return None
        margin, strict, _ = BASELINE_TARGETS.get(self.baseline, (0.0, False, ""))
        limit = self.base_mean_gap + margin
        return self.ours_mean_gap < limit if strict else self.ours_mean_gap <= limit

    def lines(self) -> list[str]:
        def pct(x: float | None) -> str:
            return "n/a" if x is None else f"{x:.3f} %"

        met = self.target_met
        wording = BASELINE_TARGETS.get(self.baseline, (0.0, False, "-"))[2]
        lines = [
            f"instances: {self.instances}; both with a checked feasible plan: {self.compared}",
            f"mean gap to best known, evfleet: {pct(self.ours_mean_gap)}",
            f"mean gap to best known, {self.baseline}: {pct(self.base_mean_gap)}",
            f"feasible: evfleet {self.ours_feasible} / {self.instances}, "
            f"{self.baseline} {self.base_feasible} / {self.instances}",
        ]
        if self.vehicles_comparable:
            lines.append(
                f"vehicles equal to best known: evfleet {self.ours_vehicles_equal}, "
                f"{self.baseline} {self.base_vehicles_equal} (of {self.vehicles_comparable})"
            )
        lines.append(
            f"better / equal / worse than {self.baseline} (vehicles first where the "
            f"objective says so): {self.wins} / {self.ties} / {self.losses}"
        )
        if self.hierarchical:
            lines.append(
                f"mean gap where both use the best-known vehicle count ({self.matched} "
                f"instances): evfleet {pct(self.ours_mean_gap_matched)}, "
                f"{self.baseline} {pct(self.base_mean_gap_matched)}"
            )
        verdict = "n/a" if met is None else ("met" if met else "NOT met")
        lines.append(f"target ({wording}), on the mean gap over all instances: {verdict}")
        return lines


def compare(ours: Sequence[Row], base: Sequence[Row], baseline: str) -> Comparison:
    """Summarises ``ours`` against ``base`` (rows of the same instances, same order)."""
    pairs = [
        (o.gap_best, b.gap_best)
        for o, b in zip(ours, base, strict=True)
        if o.gap_best is not None and b.gap_best is not None
    ]
    veh = [
        (o.vehicles_equal_bks, b.vehicles_equal_bks)
        for o, b in zip(ours, base, strict=True)
        if o.vehicles_equal_bks is not None and b.vehicles_equal_bks is not None
    ]
    hierarchical = any(r.hierarchical for r in (*ours, *base))
    matched = [
        (o.gap_best, b.gap_best)
        for o, b in zip(ours, base, strict=True)
        if o.vehicles_equal_bks
        and b.vehicles_equal_bks
        and o.gap_best is not None
        and b.gap_best is not None
    ]
    wins = ties = losses = 0
    for o, b in zip(ours, base, strict=True):
        ob, bb = o.best, b.best
        if ob is None and bb is None:
            continue
        if ob is None or bb is None:
            wins += bb is None
            losses += ob is None
            continue
        ko = ((ob.vehicles or 0) if hierarchical else 0, ob.value or 0.0)
        kb = ((bb.vehicles or 0) if hierarchical else 0, bb.value or 0.0)
        if ko[0] == kb[0] and abs(ko[1] - kb[1]) <= REACHED_GAP_PCT / 100.0 * abs(kb[1]):
            ties += 1
        elif ko < kb:
            wins += 1
        else:
            losses += 1
    return Comparison(
        baseline=baseline,
        instances=len(ours),
        compared=len(pairs),
        ours_mean_gap=statistics.fmean(o for o, _ in pairs) if pairs else None,
        base_mean_gap=statistics.fmean(b for _, b in pairs) if pairs else None,
        ours_feasible=sum(r.feasible for r in ours),
        base_feasible=sum(r.feasible for r in base),
        ours_vehicles_equal=sum(bool(o) for o, _ in veh),
        base_vehicles_equal=sum(bool(b) for _, b in veh),
        vehicles_comparable=len(veh),
        hierarchical=hierarchical,
        matched=len(matched),
        ours_mean_gap_matched=statistics.fmean(o for o, _ in matched) if matched else None,
        base_mean_gap_matched=statistics.fmean(b for _, b in matched) if matched else None,
        wins=wins,
        ties=ties,
        losses=losses,
    )


def comparison_table(ours: Sequence[Row], base: Sequence[Row], title: str) -> Table:
    table = Table(title=title)
    for i, header in enumerate(COMPARISON_HEADERS):
        table.add_column(header, justify="left" if i == 0 else "right", no_wrap=i == 0)
    for o, b in zip(ours, base, strict=True):
        table.add_row(*comparison_cells(o, b), style=None if o.feasible else "bold red")
    return table


def write_comparison(
    ours: Sequence[Row],
    base: Sequence[Row],
    path: Path,
    *,
    baseline: str,
    description: str,
    set_name: str,
    command: str,
    started: dt.datetime,
    time_limit_s: float,
    runs: int,
    jobs: int,
    revision: str | None = None,
) -> None:
    """The side-by-side table as Markdown (``path``) and CSV (``path`` with ``.csv``)."""
    comparison = compare(ours, base, baseline)
    lines = [
        f"# Benchmark `{set_name}`: evfleet and {baseline} side by side",
        "",
        f"- baseline: {description}",
        f"- date: {started.isoformat(timespec='seconds')}",
        f"- command: `{command}`",
        f"- machine: {machine_description()}",
        f"- evfleet revision: {revision_line(revision)}",
        f"- time limit {time_limit_s:g} s per run and solver, {runs} run(s) per instance, "
        f"{jobs} job(s); gaps of the best run; it / s: search iterations per second",
        "",
        *(f"- {line}" for line in comparison.lines()),
        "",
        "| " + " | ".join(COMPARISON_HEADERS) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(COMPARISON_HEADERS) - 1)) + "|",
    ]
    lines += [
        "| " + " | ".join(_md_cell(c) for c in comparison_cells(o, b)) + " |"
        for o, b in zip(ours, base, strict=True)
    ]
    problems = [(who, r) for who, rows in (("evfleet", ours), (baseline, base)) for r in rows]
    problems = [(who, r) for who, r in problems if r.error]
    if problems:
        lines += ["", "## Infeasible or failed runs", ""]
        lines += [f"- {who} `{r.instance}`: {_md_cell(r.error)}" for who, r in problems]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with path.with_suffix(".csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["solver", *CSV_FIELDS[:-1], "iterations_per_run", CSV_FIELDS[-1]])
        for who, rows in ((EVFLEET, ours), (baseline, base)):
            for row in rows:
                record = csv_record(row)
                values = [record[k] for k in CSV_FIELDS[:-1]]
                it = row.iterations
                writer.writerow([who, *values, "" if it is None else it, record["error"]])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="benchmarks/run.py",
        description="Solve a benchmark set, check every plan and compare with best-known values.",
    )
    parser.add_argument("set", choices=sorted(SETS), metavar="SET", help=", ".join(sorted(SETS)))
    parser.add_argument(
        "--time-limit", type=float, required=True, metavar="S", help="seconds per solve"
    )
    parser.add_argument("--runs", type=int, default=1, metavar="K", help="runs per instance")
    parser.add_argument(
        "--seconds-per-customer",
        type=float,
        default=0.0,
        metavar="X",
        help="time limit: the larger of --time-limit and X s per customer (WCCI: 0.1)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="J",
        help="solves at a time (default: the number of CPUs divided by --workers)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="W",
        help="cores per evfleet solve (evfleet solve --workers: W independent searches, "
        "the best kept; default 1); use --jobs 1 --workers 2 on two cores",
    )
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="first seed")
    parser.add_argument("--filter", metavar="GLOB", help="only instances whose name matches")
    parser.add_argument("--recharge", choices=("full", "partial"), help="recharge policy")
    parser.add_argument(
        "--convention", choices=("hierarchical", "dimacs"), help="Solomon objective convention"
    )
    parser.add_argument(
        "--baseline",
        choices=("pyvrp", "routingblocks"),
        help="also run a reference solver on the same instances (pyvrp: solomon, dimacs; "
        "routingblocks: schneider-large, partial recharge, ten instances unless --filter)",
    )
    parser.add_argument(
        "--shared",
        type=Path,
        default=DEFAULT_SHARED,
        metavar="PATH",
        help=f"folder holding the benchmark folders (default: {DEFAULT_SHARED})",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, metavar="DIR", help="where results are written"
    )
    return parser


def default_jobs(workers: int, cpus: int | None = None) -> int:
    """Solves at a time when ``--jobs`` is not given: each takes ``workers`` cores, and
    searches never outnumber the cores."""
    return max(1, (cpus or os.cpu_count() or 1) // max(workers, 1))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.jobs is None:
        args.jobs = default_jobs(args.workers)
    if (
        args.time_limit <= 0
        or args.runs < 1
        or args.jobs < 1
        or args.workers < 1
        or args.seconds_per_customer < 0
    ):
        parser.error(
            "--time-limit must be > 0, --runs, --jobs and --workers at least 1, "
            "--seconds-per-customer at least 0"
        )
    command = shlex.join(sys.orig_argv if argv is None else ["benchmarks/run.py", *argv])
    # Wide enough for the table when output goes to a file or CI log instead of a terminal.
    console = Console(width=None if sys.stdout.isatty() else 140)
    baseline = None
    if args.baseline is not None and args.workers > 1:
        parser.error("--baseline compares single-core solves: leave --workers at 1")
    if args.baseline is not None:
        baselines = _load_baselines()
        baseline = baselines.BASELINES[args.baseline]
        if args.set != baseline.set_name:
            parser.error(f"--baseline {args.baseline} runs on the set {baseline.set_name!r}")
        for option, wanted in (
            ("recharge", baseline.recharge),
            ("convention", baseline.convention),
        ):
            given = getattr(args, option)
            if given is not None and given != wanted:
                parser.error(f"--baseline {args.baseline} needs --{option} {wanted}")
            setattr(args, option, wanted)
        missing = baselines.available(args.baseline)
        if missing is not None:
            console.print(f"[red]error:[/red] {escape(missing)}", soft_wrap=True)
            return 2
    try:
        paths = select_instances(args.set, args.shared, args.filter)
        if baseline is not None and args.filter is None and baseline.instances is not None:
            paths = [p for p in paths if instance_name(p) in baseline.instances]
    except FileNotFoundError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))} (use --shared PATH)", soft_wrap=True)
        return 2
    if not paths:
        console.print(
            f"[red]error:[/red] no instances of {args.set!r} match {escape(repr(args.filter))}",
            soft_wrap=True,
        )
        return 2

    started = dt.datetime.now().astimezone()
    revision = git_revision()
    jobs = min(args.jobs, len(paths) * args.runs)
    console.print(
        f"{args.set}: {len(paths)} instance(s) x {args.runs} run(s), "
        f"{args.time_limit:g} s each, {jobs} job(s)"
        + (f" of {args.workers} cores each" if args.workers > 1 else "")
        + (f", then the same with {args.baseline}" if baseline is not None else "")
    )

    who = ""

    def on_done(result: RunResult, done: int, total: int) -> None:
        status = "feasible" if result.feasible else f"NOT FEASIBLE: {result.error}"
        value = _num(result.value) or "-"
        console.print(
            f"{who}[{done}/{total}] {result.instance} seed {result.seed}: {value} {status}",
            markup=False,
            highlight=False,
            soft_wrap=True,
            style=None if result.feasible else "red",
        )

    stem = f"{args.set}-{started.strftime('%Y%m%d-%H%M%S')}"
    plans_dir = args.out / f"{stem}-plans"
    plans_dir.mkdir(parents=True, exist_ok=True)
    rows = run_benchmark(
        paths,
        time_limit_s=args.time_limit,
        runs=args.runs,
        jobs=jobs,
        seed=args.seed,
        recharge=args.recharge,
        convention=args.convention,
        on_done=on_done,
        per_customer_s=args.seconds_per_customer,
        workers=args.workers,
        plans_dir=str(plans_dir),
    )
    summary = summarize(rows)
    console.print(rich_table(rows, title=f"{args.set} ({args.time_limit:g} s, {args.runs} run(s))"))
    for line in summary.lines():
        console.print(line, markup=False, highlight=False)

    csv_path = args.out / f"{stem}.csv"
    md_path = args.out / f"{stem}.md"
    write_csv(rows, csv_path)
    write_markdown(
        rows,
        md_path,
        set_name=args.set,
        command=command,
        started=started,
        time_limit_s=args.time_limit,
        runs=args.runs,
        jobs=jobs,
        workers=args.workers,
        revision=revision,
    )
    console.print(f"results: {md_path}", markup=False, highlight=False, soft_wrap=True)
    console.print(f"         {csv_path}", markup=False, highlight=False, soft_wrap=True)
    console.print(f"plans:   {plans_dir}", markup=False, highlight=False, soft_wrap=True)

    if baseline is not None:
        who = f"{args.baseline} "
        base_rows = run_benchmark(
            paths,
            time_limit_s=args.time_limit,
            runs=args.runs,
            jobs=jobs,
            seed=args.seed,
            recharge=args.recharge,
            convention=args.convention,
            on_done=on_done,
            solver=args.baseline,
            plans_dir=str(plans_dir),
        )
        title = f"{args.set}: evfleet and {args.baseline} ({args.time_limit:g} s each)"
        console.print(comparison_table(rows, base_rows, title))
        for line in compare(rows, base_rows, args.baseline).lines():
            console.print(line, markup=False, highlight=False)
        cmp_path = args.out / f"{args.set}-{args.baseline}-{started.strftime('%Y%m%d-%H%M%S')}.md"
        write_comparison(
            rows,
            base_rows,
            cmp_path,
            baseline=args.baseline,
            description=baseline.description,
            set_name=args.set,
            command=command,
            started=started,
            time_limit_s=args.time_limit,
            runs=args.runs,
            jobs=jobs,
            revision=revision,
        )
        console.print(f"comparison: {cmp_path}", markup=False, highlight=False, soft_wrap=True)
        console.print(
            f"            {cmp_path.with_suffix('.csv')}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    return 0 if summary.all_feasible else 1


if __name__ == "__main__":
    sys.exit(main())
