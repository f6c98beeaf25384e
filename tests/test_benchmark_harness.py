"""The benchmark harness (benchmarks/run.py): instance selection, gaps, and a tiny real run."""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "benchmarks"
TINY = ("c101C5", "c103C5")


def _load_harness() -> ModuleType:
    name = "evfleet_benchmarks_run"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


harness = _load_harness()

needs_shared = pytest.mark.skipif(
    not (SHARED / "evrptw-schneider").is_dir(), reason="../shared/benchmarks is absent"
)


def _engine_missing() -> str | None:
    """Why the read-solve-check pipeline cannot run yet, or None when it can."""
    for module in ("evfleet.routing.solve", "evfleet.io.instances"):
        if importlib.util.find_spec(module) is None:
            return f"{module} does not exist yet"
    import evfleet.checker

    if not hasattr(evfleet.checker, "check"):
        return "evfleet.checker.check does not exist yet"
    return None


needs_engine = pytest.mark.skipif(_engine_missing() is not None, reason=str(_engine_missing()))


@needs_shared
def test_sets_select_the_documented_files() -> None:
    small = harness.select_instances("schneider-small", SHARED)
    large = harness.select_instances("schneider-large", SHARED)
    everything = harness.select_instances("schneider", SHARED)
    assert len(small) == 36
    assert len(large) == 56
    assert sorted(small + large) == everything
    assert all(p.name.endswith(("C5.txt", "C10.txt", "C15.txt")) for p in small)
    picked = harness.select_instances("schneider-small", SHARED, "c10[13]C5")
    assert [harness.instance_name(p) for p in picked] == list(TINY)
    with pytest.raises(FileNotFoundError):
        harness.select_instances("wcci", SHARED / "nowhere")


def test_instance_names_match_bks_csv_keys() -> None:
    assert harness.instance_name(Path("c101_21.txt")) == "c101_21"
    assert harness.instance_name(Path("C101.100.10.vrptw")) == "C101"
    assert harness.instance_name(Path("E-n22-k4.evrp")) == "E-n22-k4"
    assert harness.instance_name(Path("tc0c10s2cf1.xml")) == "tc0c10s2cf1"


def _run(value: float, vehicles: int, *, feasible: bool = True, seed: int = 0) -> object:
    return harness.RunResult(
        "x",
        seed,
        feasible=feasible,
        value=value,
        vehicles=vehicles,
        seconds=1.0,
        objective="vehicles-then-distance",
        hierarchical=True,
        bks_cost=100.0,
        bks_vehicles=3,
    )


def test_rows_pick_fewest_vehicles_first_and_compute_gaps() -> None:
    row = harness.Row("x", [_run(99.0, 4), _run(101.0, 3, seed=1), _run(90.0, 2, feasible=False)])
    assert row.best.value == 101.0  # 3 vehicles beat 4, the infeasible run does not count
    assert row.gap_best == pytest.approx(1.0)
    assert row.mean_value == pytest.approx(100.0)
    assert row.gap_mean == pytest.approx(0.0)
    assert row.vehicles_equal_bks is True
    assert row.reached_bks is False
    assert row.feasible is False

    assert harness.reaches(100.004, 100.0)
    assert harness.reaches(257.754, 257.75)  # equal at two decimals
    assert not harness.reaches(100.01, 100.0)
    assert harness.gap_pct(1.0, None) is None

    summary = harness.summarize([row, harness.Row("y", [_run(100.0, 3)])])
    assert summary.instances == 2
    assert summary.feasible == 1
    assert summary.reached == 1
    assert summary.vehicles_equal == 2
    assert not summary.all_feasible


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_exception_becomes_a_failed_row(tmp_path: Path, jobs: int) -> None:
    missing = [tmp_path / "c101C5.txt", tmp_path / "c103C5.txt"]  # absent: reading fails
    rows = harness.run_benchmark(missing, time_limit_s=0.1, runs=2, jobs=jobs)
    assert [r.instance for r in rows] == ["c101C5", "c103C5"]
    for row in rows:
        assert [r.seed for r in row.runs] == [0, 1]
        assert row.failed
        assert not row.feasible
        assert row.error
    assert not harness.summarize(rows).all_feasible


@needs_shared
@needs_engine
def test_two_tiny_schneider_instances_are_solved_checked_and_compared(tmp_path: Path) -> None:
    paths = harness.select_instances("schneider-small", SHARED, "c10[13]C5")
    rows = harness.run_benchmark(paths, time_limit_s=0.5, runs=1, jobs=1, seed=0)
    assert [r.instance for r in rows] == list(TINY)
    for row in rows:
        assert row.error == "", row.error
        assert row.feasible
        assert row.bks_cost is not None and row.bks_vehicles is not None
        best = row.best
        assert best is not None and best.value is not None
        assert row.gap_best == pytest.approx(100 * (best.value - row.bks_cost) / row.bks_cost)
        # The 5-customer best-known values are optimal: nothing may beat them.
        assert row.gap_best >= -0.01
        assert best.vehicles >= row.bks_vehicles

    out = tmp_path / "results"
    args = ["schneider-small", "--time-limit", "0.5", "--jobs", "1", "--filter", "c10[13]C5"]
    assert harness.main([*args, "--out", str(out)]) == 0
    (csv_path,) = out.glob("schneider-small-*.csv")
    (md_path,) = out.glob("schneider-small-*.md")
    with csv_path.open(encoding="utf-8") as f:
        records = list(csv.DictReader(f))
    assert [r["instance"] for r in records] == list(TINY)
    assert all(r["feasible"] == "True" for r in records)
    markdown = md_path.read_text(encoding="utf-8")
    assert "benchmarks/run.py schneider-small --time-limit 0.5" in markdown
    assert "all feasible: yes" in markdown
    assert "1 core(s) per evfleet run" in markdown
    # Every plan is kept, and checking it again gives the figure in the table.
    from evfleet.checker import check
    from evfleet.io.instances import read_instance
    from evfleet.io.solution_json import read_solution

    (plans,) = out.glob("schneider-small-*-plans")
    for record, path in zip(records, sorted(paths), strict=True):
        plan = plans / f"evfleet-{record['instance']}-seed0.json"
        problem = read_instance(path)
        report = check(problem, read_solution(plan, problem))
        assert report.feasible
        assert float(record["best_value"]) == pytest.approx(report.objective_value, rel=1e-9)


@needs_shared
@needs_engine
def test_workers_run_the_portfolio_on_each_instance() -> None:
    (path,) = harness.select_instances("schneider-small", SHARED, "c101C5")
    result = harness.run_once(str(path), 0, 0.5, workers=2)
    assert result.feasible, result.error
    assert result.vehicles == 2
    # Two searches of 0.5 s each, side by side: the iterations are worker 0's.
    assert result.iterations is not None and result.iterations > 0


def test_workers_must_be_positive_and_baselines_single_core() -> None:
    with pytest.raises(SystemExit) as exc:
        harness.main(["schneider-small", "--time-limit", "1", "--workers", "0"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        harness.main(["solomon", "--time-limit", "1", "--baseline", "pyvrp", "--workers", "2"])
    assert exc.value.code == 2


# --------------------------------------------------------------------------------------
# Baselines side by side (benchmarks/baselines.py)


def _flat(name: str, value: float | None, *, bks: float = 100.0) -> object:
    run = harness.RunResult(
        name,
        0,
        feasible=value is not None,
        value=value,
        vehicles=None if value is None else 10,
        seconds=2.0,
        objective="distance",
        bks_cost=bks,
        error=None if value is not None else "infeasible",
        iterations=None if value is None else 100.0,
    )
    return harness.Row(name, [run])


def test_comparison_means_over_instances_both_solved_and_checks_the_targets(
    tmp_path: Path,
) -> None:
    ours = [_flat("a", 101.0), _flat("b", 100.0), _flat("c", 103.0)]
    base = [_flat("a", 100.5), _flat("b", 101.0), _flat("c", None)]  # c: baseline infeasible
    cmp = harness.compare(ours, base, "pyvrp")
    assert (cmp.instances, cmp.compared) == (3, 2)
    assert cmp.ours_mean_gap == pytest.approx(0.5)
    assert cmp.base_mean_gap == pytest.approx(0.75)
    assert (cmp.ours_feasible, cmp.base_feasible) == (3, 2)
    assert cmp.target_met is True  # 0.5 <= 0.75 + 0.5
    # PyVRP: ours at most its mean gap plus 0.5 percentage points.
    assert harness.compare([_flat("a", 101.0)], [_flat("a", 100.5)], "pyvrp").target_met
    assert harness.compare([_flat("a", 101.1)], [_flat("a", 100.5)], "pyvrp").target_met is False
    # RoutingBlocks: strictly lower, no margin.
    same = harness.compare([_flat("a", 100.5)], [_flat("a", 100.5)], "routingblocks")
    assert same.target_met is False
    assert harness.compare([_flat("a", 100.4)], [_flat("a", 100.5)], "routingblocks").target_met
    assert harness.compare([_flat("a", None)], [_flat("a", 100.5)], "pyvrp").target_met is None
    assert any("target" in line and "met" in line for line in cmp.lines())

    cells = harness.comparison_cells(ours[0], base[0])
    assert cells[0] == "a" and cells[3] == "1.000" and cells[5] == "0.500"
    assert cells[6] == "50"  # 100 iterations in 2 s
    path = tmp_path / "cmp.md"
    harness.write_comparison(
        ours,
        base,
        path,
        baseline="pyvrp",
        description="test",
        set_name="solomon",
        command="benchmarks/run.py solomon --baseline pyvrp",
        started=harness.dt.datetime(2026, 1, 1, tzinfo=harness.dt.UTC),
        time_limit_s=30.0,
        runs=1,
        jobs=1,
    )
    text = path.read_text(encoding="utf-8")
    assert "mean gap to best known, pyvrp: 0.750 %" in text
    assert "pyvrp `c`: seed 0: infeasible" in text
    with path.with_suffix(".csv").open(encoding="utf-8") as f:
        records = list(csv.DictReader(f))
    assert [(r["solver"], r["instance"]) for r in records] == [
        ("evfleet", "a"),
        ("evfleet", "b"),
        ("evfleet", "c"),
        ("pyvrp", "a"),
        ("pyvrp", "b"),
        ("pyvrp", "c"),
    ]


def test_hierarchical_comparison_counts_vehicles_first() -> None:
    # BKS: 3 vehicles, 100.0. The baseline's shorter plan on "b" needs a fourth vehicle.
    ours = [harness.Row("a", [_run(101.0, 3)]), harness.Row("b", [_run(102.0, 3)])]
    base = [harness.Row("a", [_run(103.0, 3)]), harness.Row("b", [_run(95.0, 4)])]
    cmp = harness.compare(ours, base, "routingblocks")
    assert cmp.hierarchical
    assert cmp.ours_mean_gap == pytest.approx(1.5)
    assert cmp.base_mean_gap == pytest.approx(-1.0)
    assert cmp.target_met is False  # on the plain mean gap ...
    assert (cmp.wins, cmp.ties, cmp.losses) == (2, 0, 0)  # ... but fewer vehicles on "b"
    assert cmp.matched == 1
    assert cmp.ours_mean_gap_matched == pytest.approx(1.0)
    assert cmp.base_mean_gap_matched == pytest.approx(3.0)
    text = "\n".join(cmp.lines())
    assert "better / equal / worse than routingblocks" in text
    assert "best-known vehicle count (1 instances)" in text


def test_a_baseline_runs_only_on_its_own_set_and_convention() -> None:
    with pytest.raises(SystemExit) as exc:
        harness.main(["wcci", "--time-limit", "1", "--baseline", "pyvrp"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit):
        harness.main(
            ["solomon", "--time-limit", "1", "--baseline", "pyvrp", "--convention", "hierarchical"]
        )
    with pytest.raises(SystemExit):
        harness.main(
            ["schneider-large", "--time-limit", "1", "--baseline", "routingblocks"]
            + ["--recharge", "full"]
        )


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@needs_shared
@needs_engine
@pytest.mark.skipif(not _installed("pyvrp"), reason="pyvrp is not installed (extra 'bench')")
def test_pyvrp_solves_the_same_dimacs_problem_and_its_plan_is_checked() -> None:
    (path,) = harness.select_instances("solomon", SHARED, "C101")
    result = harness.run_once(str(path), 0, 3.0, None, "dimacs", solver="pyvrp")
    # PyVRP's best plan came back and went through the checker (early in its search it
    # may still break windows: then the checker says so, as for any plan).
    assert result.value is not None, result.error
    assert result.bks_cost is not None and result.vehicles is not None
    assert result.vehicles <= 10  # the file's VEHICLES bounds both solvers
    assert result.iterations is not None and result.iterations > 0
    if result.feasible:
        # The checker's DIMACS distance: never below the (optimal) best known value.
        assert result.value >= result.bks_cost - 1e-6


@needs_shared
@needs_engine
@pytest.mark.skipif(
    not _installed("routingblocks"), reason="routingblocks is not installed (extra 'bench')"
)
def test_routingblocks_solves_a_schneider_instance_and_its_plan_is_checked() -> None:
    (path,) = harness.select_instances("schneider-large", SHARED, "c101_21")
    result = harness.run_once(str(path), 0, 3.0, "partial", None, solver="routingblocks")
    # The plan came back and went through the checker (3 s is too short to promise a
    # feasible one: the first random start alone takes about that long).
    assert result.value is not None, result.error
    assert result.vehicles is not None and result.vehicles >= 1
    assert result.bks_cost == pytest.approx(1043.38)


def test_results_name_the_revision_the_run_started_at(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers run the code loaded at the start: a commit made during a long run must not
    be credited with its figures."""
    monkeypatch.setattr(harness, "git_revision", lambda: "bbbbbbb")
    assert harness.revision_line("bbbbbbb") == "bbbbbbb"
    assert harness.revision_line(None) == "bbbbbbb"
    line = harness.revision_line("aaaaaaa")
    assert line.startswith("aaaaaaa at the start")
    assert "bbbbbbb when the run ended" in line


def test_warm_up_compiles_before_the_timed_solves() -> None:
    """The first timed solve must not pay for compiling: the warm-up leaves the local
    search and the route evaluation compiled in this process (forked workers inherit
    them)."""
    from evfleet.routing import kernels

    assert harness.warm_up() > 0.0
    assert kernels.local_search_pass.signatures
    assert kernels.evaluate_route.signatures


def test_default_jobs_never_put_more_searches_than_cores() -> None:
    assert harness.default_jobs(1, cpus=2) == 2
    assert harness.default_jobs(2, cpus=2) == 1
    assert harness.default_jobs(4, cpus=2) == 1
    assert harness.default_jobs(2, cpus=8) == 4


@needs_shared
def test_segment_modes_benchmark_takes_the_same_steps(capsys: pytest.CaptureFixture[str]) -> None:
    """benchmarks/segments.py solves in each mode and finds the same plans."""
    spec = importlib.util.spec_from_file_location(
        "evfleet_benchmarks_segments", ROOT / "benchmarks" / "segments.py"
    )
    assert spec is not None and spec.loader is not None
    segments = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(segments)
    assert segments.main(["--repeats", "1", "--scale", "0.05", "--filter", "C101.100"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("solomon/C101"))
    assert row.endswith("yes")
