"""Schneider et al. E-VRPTW reader: every real file, spot values, and bad input."""

from __future__ import annotations

import functools
import math
import re
from pathlib import Path

import pytest

from evfleet.errors import InputError
from evfleet.io.schneider import read_schneider
from evfleet.problem import Objective, Problem, RechargePolicy

BENCH = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks"
SET = BENCH / "evrptw-schneider"
FILES = sorted(SET.glob("*.txt"))


@functools.cache
def _read(path: Path) -> Problem:
    return read_schneider(path)


def _rows(path: Path) -> tuple[list[list[str]], dict[str, float]]:
    """Node rows and parameters, parsed independently of the reader."""
    rows: list[list[str]] = []
    params: dict[str, float] = {}
    for line in path.read_text().splitlines()[1:]:
        if "/" in line:
            params[line.split()[0]] = float(line.split("/")[1])
        elif line.strip():
            rows.append(line.split())
    return rows, params


@pytest.mark.parametrize("path", FILES or [None], ids=lambda p: p.stem if p else "absent")
def test_reads_every_file(path: Path | None) -> None:
    if path is None:
        pytest.skip(f"benchmark set not found: {SET}")
    problem = _read(path)
    rows, params = _rows(path)
    customers = [r for r in rows if r[1] == "c"]
    stations = [r for r in rows if r[1] == "f"]
    (depot,) = [r for r in rows if r[1] == "d"]
    assert problem.name == path.stem
    assert problem.num_depots == 1
    assert problem.num_clients == len(customers)
    assert problem.num_chargers == len(stations)
    assert [c.name for c in problem.clients] == [r[0] for r in customers]
    assert [s.name for s in problem.chargers] == [r[0] for r in stations]
    assert problem.objective is Objective.VEHICLES_THEN_DISTANCE
    assert problem.recharge is RechargePolicy.FULL
    d = problem.depots[0]
    assert (d.name, d.x, d.y) == (depot[0], float(depot[2]), float(depot[3]))
    assert (d.tw_early_s, d.tw_late_s) == (float(depot[5]), float(depot[6]))
    (vt,) = problem.vehicle_types
    assert vt.count is None
    assert vt.is_electric
    assert vt.battery_wh == params["Q"]
    assert vt.capacity_kg == params["C"]
    assert vt.energy_wh_per_m == params["r"]
    assert (vt.shift_start_s, vt.shift_end_s) == (d.tw_early_s, d.tw_late_s)
    assert problem.metric is not None and problem.metric.speed_m_per_s == params["v"]
    for charger in problem.chargers:
        assert charger.function.seconds_per_wh == params["g"]
        assert (charger.open_s, charger.close_s) == (d.tw_early_s, d.tw_late_s)
    for client, row in zip(problem.clients, customers, strict=True):
        assert (client.x, client.y, client.demand_kg) == tuple(map(float, row[2:5]))
        assert (client.tw_early_s, client.tw_late_s, client.service_s) == tuple(
            map(float, row[5:8])
        )
    # The S0 station sits at the depot in every file.
    assert any((s.x, s.y) == (d.x, d.y) for s in problem.chargers)


def test_c101c5_spot_values() -> None:
    path = SET / "c101C5.txt"
    if not path.exists():
        pytest.skip(f"benchmark file not found: {path}")
    problem = _read(path)
    assert problem.name == "c101C5"
    assert problem.num_clients == 5 and problem.num_chargers == 3
    assert [s.name for s in problem.chargers] == ["S0", "S5", "S15"]
    vt = problem.vehicle_types[0]
    assert (vt.battery_wh, vt.capacity_kg, vt.energy_wh_per_m) == (77.75, 200.0, 1.0)
    assert problem.chargers[0].function.seconds_per_wh == 3.47
    c30 = problem.clients[0]
    assert (c30.name, c30.x, c30.y, c30.demand_kg) == ("C30", 20.0, 55.0, 10.0)
    assert (c30.tw_early_s, c30.tw_late_s, c30.service_s) == (355.0, 407.0, 90.0)
    # Double-precision Euclidean, not rounded; duration = distance / v with v = 1.
    assert problem.distance_m[0, 1] == pytest.approx(math.hypot(20.0, 5.0), abs=1e-12)
    assert problem.duration_s[0, 1] == problem.distance_m[0, 1]


def test_partial_recharge_policy() -> None:
    path = SET / "c101_21.txt"
    if not path.exists():
        pytest.skip(f"benchmark file not found: {path}")
    problem = read_schneider(path, recharge=RechargePolicy.PARTIAL)
    assert problem.recharge is RechargePolicy.PARTIAL
    assert problem.num_clients == 100 and problem.num_chargers == 21


SMALL = """StringID   Type       x          y          demand     ReadyTime  DueDate    ServiceTime
D0         d          40.0       50.0       0.0        0.0        1236.0     0.0
S0         f          40.0       50.0       0.0        0.0        1236.0     0.0
C1         c          45.0       68.0       10.0       912.0      967.0      90.0
C2         c          45.0       70.0       30.0       825.0      870.0      90.0

Q Vehicle fuel tank capacity /79.69/
C Vehicle load capacity /200.0/
r fuel consumption rate /1.0/
g inverse refueling rate /3.39/
v average Velocity /1.0/
"""


def _write(tmp_path: Path, text: str, name: str = "tiny.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


def test_windows_line_endings_blank_lines_and_trailing_spaces(tmp_path: Path) -> None:
    plain = read_schneider(_write(tmp_path, SMALL))
    messy = "\r\n".join(line + "   " for line in SMALL.splitlines()) + "\r\n\r\n"
    other = read_schneider(_write(tmp_path, "\n" + messy, "messy.txt"))
    assert other.clients == plain.clients and other.chargers == plain.chargers
    assert other.vehicle_types == plain.vehicle_types
    assert (other.distance_m == plain.distance_m).all()


def _error(path: Path) -> InputError:
    with pytest.raises(InputError) as info:
        read_schneider(path)
    assert str(path) in str(info.value)
    return info.value


def test_empty_file(tmp_path: Path) -> None:
    err = _error(_write(tmp_path, ""))
    assert "empty file" in str(err)
    err = _error(_write(tmp_path, "  \n\n \r\n", "blank.txt"))
    assert "empty file" in str(err)


def test_wrong_column_count_names_line(tmp_path: Path) -> None:
    lines = SMALL.splitlines()
    lines[4 - 1] = "C1 c 45.0 68.0 10.0"
    path = _write(tmp_path, "\n".join(lines), "c101C5.txt")
    err = _error(path)
    assert str(err) == (
        f"{path}:4: expected 8 columns (StringID Type x y demand ReadyTime DueDate "
        "ServiceTime), got 5"
    )
    assert err.line == 4


def test_garbage_number_names_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, SMALL.replace("68.0", "6x.0"))
    err = _error(path)
    assert err.line == 4
    assert "expected a number for y, got '6x.0'" in str(err)
    path = _write(tmp_path, SMALL.replace("/3.39/", "/fast/"), "g.txt")
    err = _error(path)
    assert err.line == 10 and "parameter g" in str(err)
    path = _write(tmp_path, SMALL.replace("/79.69/", "/nan/"), "q.txt")
    assert _error(path).line == 7


@pytest.mark.parametrize(
    ("old", "new", "line", "needle"),
    [
        ("StringID   Type", "StringId   Type", 1, "expected the header"),
        ("C2         c", "C2         x", 5, "expected Type 'd'"),
        ("C2         c", "C1         c", 5, "appears twice (first on line 4)"),
        ("912.0      967.0", "967.0      912.0", 4, "DueDate 912 is before ReadyTime 967"),
        ("g inverse refueling rate /3.39/", "g inverse refueling rate 3.39", 10, "like 'g "),
        ("D0         d ", "D1         c ", None, "no depot row"),
        ("/200.0/", "/0/", 8, "parameter C must be > 0"),
        ("/1.0/\ng", "/-1/\ng", 9, "parameter r must be >= 0"),
    ],
)
def test_malformed_content(
    tmp_path: Path, old: str, new: str, line: int | None, needle: str
) -> None:
    assert old in SMALL
    err = _error(_write(tmp_path, SMALL.replace(old, new)))
    assert needle in str(err)
    if line is not None:
        assert err.line == line


def test_missing_parameter_line(tmp_path: Path) -> None:
    text = SMALL.replace("g inverse refueling rate /3.39/\n", "")
    err = _error(_write(tmp_path, text))
    assert "parameter line(s) g" in str(err)
    assert err.line == 10  # the last line: the file ends without it


def test_node_line_after_parameters(tmp_path: Path) -> None:
    err = _error(_write(tmp_path, SMALL + "C9 c 1 2 3 4 5 6\n"))
    assert err.line == 12


def test_not_utf8_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "bin.txt"
    path.write_bytes(SMALL.encode()[:100] + b"\n\xff\xfe\x00garbage")
    err = _error(path)
    assert err.line == 3 and "UTF-8" in str(err)
    _error(tmp_path / "missing.txt")


@pytest.mark.parametrize("name", ["c101C5.txt", "rc208_21.txt"])
@pytest.mark.parametrize("fraction", [0.02, 0.1, 0.33, 0.5, 0.77, 0.93, 0.985])
def test_truncated_real_file(tmp_path: Path, name: str, fraction: float) -> None:
    source = SET / name
    if not source.exists():
        pytest.skip(f"benchmark file not found: {source}")
    data = source.read_bytes()
    cut = int((len(data) - 3) * fraction)
    path = tmp_path / name
    path.write_bytes(data[:cut])
    err = _error(path)
    assert err.line is not None
    assert re.match(rf"{re.escape(str(path))}:\d+: ", str(err))


@pytest.mark.parametrize("lineno", [1, 2, 3, 6, 12, 14])
def test_real_file_with_a_garbled_line(tmp_path: Path, lineno: int) -> None:
    source = SET / "c101C5.txt"
    if not source.exists():
        pytest.skip(f"benchmark file not found: {source}")
    lines = source.read_text().splitlines()
    tokens = lines[lineno - 1].split()
    tokens[-1] = "??"  # a number replaced by garbage (or a parameter line broken)
    lines[lineno - 1] = " ".join(tokens)
    path = tmp_path / "c101C5.txt"
    path.write_text("\n".join(lines) + "\n")
    err = _error(path)
    assert err.line == lineno
    assert f"{path}:{lineno}: " in str(err)
