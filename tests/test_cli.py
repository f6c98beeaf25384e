"""The ``evfleet`` command line: solve, check and example, exit codes and error messages.

Exit codes: 0 a feasible plan, 1 an infeasible plan, 2 unreadable input or clients that
cannot be served. User errors print one message naming the file (and line) and never a
traceback. Most tests run the Typer app in-process; one runs the installed console script.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from evfleet.cli import app

BENCH = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks"
C101C5 = BENCH / "evrptw-schneider" / "c101C5.txt"

# The best-known plan of c101C5 (vehicles 2, distance 257.75); every charging stop is needed.
C101C5_BEST = [["C12", "S5", "C100"], ["S15", "C64", "C30", "S0", "C85"]]

runner = CliRunner()


@pytest.fixture
def c101c5() -> Path:
    if not C101C5.is_file():
        pytest.skip(f"benchmark file not found: {C101C5}")
    return C101C5


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Runs the test in ``tmp_path``, so that messages name short relative paths."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _flat(text: str) -> str:
    """The output with runs of whitespace (including Rich's line wrapping) made one space."""
    return " ".join(text.split())


def _solution_json(routes: list[list[str]], instance: str = "c101C5") -> str:
    document = {
        "format": "evfleet-solution/1",
        "instance": instance,
        "routes": [
            {"vehicle_type": "ev", "visits": [{"location": name} for name in route]}
            for route in routes
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def _assert_user_error(result: Result, *fragments: str) -> None:
    """Exit 2, every fragment in the (flattened) output, no traceback."""
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    flat = _flat(result.output)
    assert flat.startswith("error: "), result.output
    for fragment in fragments:
        assert fragment in flat, result.output


# --- solve and check --------------------------------------------------------------------


def test_solve_writes_a_plan_that_check_accepts(c101c5: Path, in_tmp: Path) -> None:
    args = ["--time-limit", "60", "--iterations", "300", "--workers", "1", "--out", "sol.json"]
    solved = runner.invoke(app, ["solve", str(c101c5), *args])
    assert solved.exit_code == 0, solved.output
    assert "c101C5: vehicles 2, distance 257.75" in solved.output
    assert "solution written to sol.json" in solved.output
    assert "feasible (checked independently)" in solved.output
    document = json.loads((in_tmp / "sol.json").read_text())
    assert document["format"] == "evfleet-solution/1"
    assert document["instance"] == "c101C5"

    checked = runner.invoke(app, ["check", str(c101c5), "sol.json"])
    assert checked.exit_code == 0, checked.output
    assert checked.output.splitlines() == ["vehicles 2, distance 257.75", "feasible"]


def test_check_accepts_the_best_known_plan(c101c5: Path, in_tmp: Path) -> None:
    (in_tmp / "best.json").write_text(_solution_json(C101C5_BEST))
    result = runner.invoke(app, ["check", str(c101c5), "best.json"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["vehicles 2, distance 257.75", "feasible"]


@pytest.mark.parametrize(
    ("routes", "expected"),
    [
        pytest.param(
            [["C12", "C100"], C101C5_BEST[1]],
            [
                "route 0, return to depot D0: arrives with -28.4",
                "below zero (after the arc from C100)",
            ],
            id="charger-dropped",
        ),
        pytest.param(
            [["C100", "S5", "C12"], C101C5_BEST[1]],
            ["route 0, stop 2 (C12): service starts at", "after the window closes at 228.0 s"],
            id="late-client",
        ),
    ],
)
def test_check_lists_the_violations_of_an_edited_plan(
    c101c5: Path, in_tmp: Path, routes: list[list[str]], expected: list[str]
) -> None:
    (in_tmp / "edited.json").write_text(_solution_json(routes))
    result = runner.invoke(app, ["check", str(c101c5), "edited.json"])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[1].startswith("INFEASIBLE: ")
    assert any(all(part in line for part in expected) for line in lines[2:]), result.output
    assert "Traceback" not in result.output


# --- unreadable input -------------------------------------------------------------------


def _instance_cases(source: Path) -> dict[str, tuple[bytes | None, list[str]]]:
    """File name -> (content, or None for no file; fragments the message must contain)."""
    text = source.read_text()
    lines = text.splitlines(keepends=True)
    cut = "".join(lines[:6]) + lines[6][:20]  # stops in the middle of the 7th line (C12)
    assert lines[5].startswith("C30 ")
    garbled_row = text.replace(lines[5], "C30 c twenty 55.0 10.0 355.0 407.0 90.0\n")
    return {
        "truncated.txt": (cut.encode(), ["truncated.txt:7:", "expected 8 columns"]),
        "garbled.txt": (
            bytes(range(256)) * 4,
            ["garbled.txt:1:", "unknown format"],
        ),
        "garbled-row.txt": (
            garbled_row.encode(),
            ["garbled-row.txt:6:", "expected a number for x, got 'twenty'"],
        ),
        "empty.txt": (b"", ["empty.txt:", "empty file"]),
        "missing.txt": (None, ["missing.txt:", "No such file or directory"]),
    }


CASES = ["truncated.txt", "garbled.txt", "garbled-row.txt", "empty.txt", "missing.txt"]


@pytest.mark.parametrize("command", ["solve", "check"])
@pytest.mark.parametrize("name", CASES)
def test_unreadable_instance_exits_2_naming_the_file(
    c101c5: Path, in_tmp: Path, name: str, command: str
) -> None:
    content, fragments = _instance_cases(c101c5)[name]
    if content is not None:
        (in_tmp / name).write_bytes(content)
    (in_tmp / "best.json").write_text(_solution_json(C101C5_BEST))
    args = ["solve", name, "--time-limit", "1"] if command == "solve" else ["check", name]
    if command == "check":
        args.append("best.json")
    result = runner.invoke(app, args)
    _assert_user_error(result, *fragments)


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        pytest.param(
            '{"format": "evfleet-solution/1",\n "instance": "c101C5",\n "routes": [\n',
            ["bad.json:4:", "invalid JSON"],
            id="truncated-json",
        ),
        pytest.param("", ["bad.json:1:", "invalid JSON"], id="empty"),
        pytest.param(
            _solution_json([["C12", "S5", "C100"], ["S15", "C64", "C31", "S0", "C85"]]),
            ["bad.json:", "routes[1].visits[2].location", "unknown location 'C31'"],
            id="unknown-location",
        ),
        pytest.param(
            _solution_json(C101C5_BEST, instance="r105C5"),
            ["bad.json:", "instance", "'r105C5'"],
            id="other-instance",
        ),
        pytest.param(
            '{"format": "evfleet-solution/1", "instance": "c101C5", "routes": {}}\n',
            ["bad.json:", "routes", "expected a list of routes"],
            id="routes-not-a-list",
        ),
    ],
)
def test_invalid_solution_exits_2_naming_the_file(
    c101c5: Path, in_tmp: Path, content: str, fragments: list[str]
) -> None:
    (in_tmp / "bad.json").write_text(content)
    result = runner.invoke(app, ["check", str(c101c5), "bad.json"])
    _assert_user_error(result, *fragments)


def test_missing_solution_file_exits_2(c101c5: Path, in_tmp: Path) -> None:
    result = runner.invoke(app, ["check", str(c101c5), "nowhere.json"])
    _assert_user_error(result, "nowhere.json")


# --- unservable clients and the example -------------------------------------------------


def _with_far_customer(source: Path) -> str:
    """The Schneider file with one more customer, 150 from the depot and 116 from the
    nearest station: beyond a battery of 77.75 from anywhere it could charge."""
    lines = source.read_text().splitlines(keepends=True)
    header_and_nodes = [line for line in lines if line.strip() and "/" not in line]
    parameters = [line for line in lines if "/" in line]
    far = "C999       c          40.0       200.0      10.0       0.0        1236.0     90.0\n"
    return "".join([*header_and_nodes, far, "\n", *parameters])


def test_solve_refuses_an_unservable_customer(c101c5: Path, in_tmp: Path) -> None:
    (in_tmp / "far.txt").write_text(_with_far_customer(c101c5))
    result = runner.invoke(app, ["solve", "far.txt", "--time-limit", "1"])
    _assert_user_error(result, "1 client(s) cannot be served", "C999: ev: out of reach")
    for name in ("C30", "C12", "C100", "C85", "C64"):
        assert name not in result.output


def test_example_plans_the_munich_day_and_writes_every_output(tmp_path: Path) -> None:
    out = tmp_path / "day"
    result = runner.invoke(
        app, ["example", "--time-limit", "2", "--workers", "1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "Munich" in result.output
    assert "feasible (checked independently)" in result.output
    for name in ("problem.json", "solution.json", "plan.json", "plan.geojson", "report.html"):
        assert (out / name).stat().st_size > 0, name
    plan = json.loads((out / "plan.json").read_text())
    stops = [s for r in plan["routes"] for s in r["stops"] if s["kind"] == "client"]
    assert len(stops) == 300  # every order of the example is planned
    manifests = sorted((out / "manifests").glob("*.csv"))
    assert len(manifests) == len(plan["routes"]) > 0
    html = (out / "report.html").read_text()
    assert "<svg" in html and "https://" not in html


def _day_files(tmp_path: Path, extra_order_rows: str = "") -> tuple[Path, Path, Path]:
    source = Path(__file__).resolve().parents[1] / "examples" / "city-day"
    lines = (source / "orders.csv").read_text().splitlines(keepends=True)
    orders = tmp_path / "orders.csv"
    orders.write_text("".join(lines[:21]) + extra_order_rows)  # header + 20 orders
    return orders, source / "fleet.yaml", source / "chargers.csv"


def test_plan_refuses_bad_rows_and_names_each(tmp_path: Path) -> None:
    orders, fleet, chargers = _day_files(
        tmp_path, "bad-1,48,85,11.5,1,2,,,,\nbad-2,48.1,200,1,2,,,,\n"
    )
    args = ["plan", str(orders), "--fleet", str(fleet), "--chargers", str(chargers)]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "o"), "--time-limit", "1"])
    assert result.exit_code == 2, result.output
    assert "orders.csv:22" in result.output and "orders.csv:23" in result.output
    assert "--skip-invalid" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_plan_with_skip_invalid_plans_every_good_row(tmp_path: Path) -> None:
    orders, fleet, chargers = _day_files(tmp_path, "bad-2,48.1,200,1,2,,,,\n")
    out = tmp_path / "o"
    result = runner.invoke(
        app,
        [
            "plan", str(orders), "--fleet", str(fleet), "--chargers", str(chargers),
            "--out", str(out), "--time-limit", "1", "--workers", "1", "--skip-invalid",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "orders.csv:22" in result.output
    plan = json.loads((out / "plan.json").read_text())
    planned = {s["id"] for r in plan["routes"] for s in r["stops"] if s["kind"] == "client"}
    assert len(planned) == 20 and "bad-2" not in planned


def test_nonpositive_time_limit_is_a_user_error(c101c5: Path) -> None:
    result = runner.invoke(app, ["solve", str(c101c5), "--time-limit", "0"])
    _assert_user_error(result, "--time-limit must be a positive number of seconds")


# --- the installed console script -------------------------------------------------------


def _console_script() -> str:
    beside = Path(sys.executable).parent / "evfleet"
    if beside.is_file():
        return str(beside)
    found = shutil.which("evfleet")
    if found is None:
        pytest.skip("the evfleet console script is not installed")
    return found


def test_console_script_exit_codes(c101c5: Path, tmp_path: Path) -> None:
    script = _console_script()
    (tmp_path / "best.json").write_text(_solution_json(C101C5_BEST))
    (tmp_path / "late.json").write_text(_solution_json([["C100", "S5", "C12"], C101C5_BEST[1]]))
    (tmp_path / "far.txt").write_text(_with_far_customer(c101c5))
    (tmp_path / "empty.txt").write_text("")
    # label: (arguments, exit code, what the output must contain)
    runs = {
        "feasible": (["check", str(c101c5), "best.json"], 0, "feasible"),
        "infeasible": (["check", str(c101c5), "late.json"], 1, "after the window closes"),
        "missing": (["check", "missing.txt", "best.json"], 2, "missing.txt"),
        "empty": (["solve", "empty.txt", "--time-limit", "1"], 2, "empty.txt"),
        "unservable": (["solve", "far.txt", "--time-limit", "1"], 2, "C999"),
    }
    for label, (args, code, fragment) in runs.items():
        done = subprocess.run(
            [script, *args], cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == code, (label, done.stdout, done.stderr)
        assert "Traceback" not in done.stdout + done.stderr, label
        assert fragment in done.stdout + done.stderr, (label, done.stdout, done.stderr)
        if code == 2:
            assert done.stderr.startswith("error: "), (label, done.stderr)
            assert done.stdout == "", (label, done.stdout)


def test_packaged_example_day_matches_the_examples_folder() -> None:
    root = Path(__file__).resolve().parents[1]
    for name in ("orders.csv", "fleet.yaml", "chargers.csv"):
        packaged = root / "src" / "evfleet" / "examples" / "munich-day" / name
        assert packaged.read_bytes() == (root / "examples" / "city-day" / name).read_bytes()


def test_plan_with_an_unusable_road_network_is_a_user_error(tmp_path: Path) -> None:
    orders, fleet, _ = _day_files(tmp_path)
    result = runner.invoke(
        app,
        ["plan", str(orders), "--fleet", str(fleet), "--out", str(tmp_path / "o"),
         "--network", "osm:/nonexistent/city.osm.pbf"],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "error: road network 'osm:/nonexistent/city.osm.pbf'" in result.output
    assert "no such OSM extract" in result.output
