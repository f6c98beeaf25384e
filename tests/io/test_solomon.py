"""Solomon VRPTW reader (LKH-3 layout): every real file, both conventions, bad input."""

from __future__ import annotations

import functools
import itertools
import math
import re
from pathlib import Path

import numpy as np
import pytest

from evfleet.errors import InputError
from evfleet.io.solomon import read_solomon
from evfleet.problem import Objective, Powertrain, Problem

BENCH = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks"
SET = BENCH / "solomon"
FILES = sorted(SET.glob("*.vrptw"))
C101 = SET / "C101.100.10.vrptw"


@functools.cache
def _read(path: Path, convention: str) -> Problem:
    return read_solomon(path, convention=convention)


def _independent(path: Path) -> tuple[dict[str, str], dict[str, list[list[float]]]]:
    """Header and sections, parsed independently of the reader."""
    header: dict[str, str] = {}
    sections: dict[str, list[list[float]]] = {}
    current = None
    for line in path.read_text().splitlines():
        line = line.strip()
        if line.endswith("_SECTION"):
            current = line
            sections[current] = []
        elif line == "EOF":
            break
        elif current is None:
            key, value = line.split(":")
            header[key.strip()] = value.strip()
        else:
            sections[current].append([float(v) for v in line.split()])
    return header, sections


@pytest.mark.parametrize("convention", ["hierarchical", "dimacs"])
@pytest.mark.parametrize("path", FILES or [None], ids=lambda p: p.stem if p else "absent")
def test_reads_every_file(path: Path | None, convention: str) -> None:
    if path is None:
        pytest.skip(f"benchmark set not found: {SET}")
    problem = _read(path, convention)
    header, sections = _independent(path)
    dimension = int(header["DIMENSION"])
    assert problem.name == header["NAME"] == path.name.split(".")[0]
    assert problem.num_depots == 1 and problem.num_chargers == 0
    assert problem.num_clients == dimension - 1 == 100
    (vt,) = problem.vehicle_types
    assert vt.count == int(header["VEHICLES"]) == int(path.name.split(".")[2])
    assert vt.capacity_kg == float(header["CAPACITY"])
    assert vt.powertrain is Powertrain.DIESEL and vt.fuel_l_per_m == 0.0
    coords = sections["NODE_COORD_SECTION"]
    windows = sections["TIME_WINDOW_SECTION"]
    demands = sections["DEMAND_SECTION"]
    depot = problem.depots[0]
    assert (depot.x, depot.y) == (coords[0][1], coords[0][2])
    assert (depot.tw_early_s, depot.tw_late_s) == (windows[0][1], windows[0][2])
    assert (vt.shift_start_s, vt.shift_end_s) == (depot.tw_early_s, depot.tw_late_s)
    for k, client in enumerate(problem.clients, start=1):
        assert client.name == str(k + 1)
        assert (client.x, client.y) == (coords[k][1], coords[k][2])
        assert client.demand_kg == demands[k][1]
        assert (client.tw_early_s, client.tw_late_s) == (windows[k][1], windows[k][2])
        assert client.service_s == float(header["SERVICE_TIME"])
    x, y = problem.coordinates()
    exact = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    if convention == "hierarchical":
        assert problem.objective is Objective.VEHICLES_THEN_DISTANCE
        np.testing.assert_allclose(problem.distance_m, exact, rtol=1e-15)
    else:
        assert problem.objective is Objective.DISTANCE
        assert problem.metric is not None and problem.metric.truncate_decimals == 1
        assert np.array_equal(problem.distance_m, np.floor(10 * exact) / 10)
    assert np.array_equal(problem.duration_s, problem.distance_m)  # speed 1


# Best-known C101 solution, 10 routes, Solomon customer numbers (= location index here).
C101_ROUTES = """
5 3 7 8 10 11 9 6 4 2 1 75
13 17 18 19 15 16 14 12
20 24 25 27 29 30 28 26 23 22 21
32 33 31 35 37 38 39 36 34
43 42 41 40 44 46 45 48 51 50 52 49 47
57 55 54 53 56 58 60 59
67 65 63 62 74 72 61 64 68 66 69
81 78 76 71 70 73 77 79 80
90 87 86 83 82 84 85 88 89 91
98 96 95 94 92 93 97 100 99
"""


def _route_cost_and_feasible(problem: Problem, routes: list[list[int]]) -> tuple[float, bool]:
    total, feasible = 0.0, True
    capacity = problem.vehicle_types[0].capacity_kg
    for route in routes:
        time, load = problem.depots[0].tw_early_s, 0.0
        stops = [0, *route, 0]
        for a, b in itertools.pairwise(stops):
            service = problem.clients[a - 1].service_s if a else 0.0
            time += service + problem.duration_s[a, b]
            total += problem.distance_m[a, b]
            if b:
                client = problem.clients[b - 1]
                time = max(time, client.tw_early_s)
                feasible &= time <= client.tw_late_s
                load += client.demand_kg
        feasible &= time <= problem.depots[0].tw_late_s and load <= capacity
    return total, feasible


def test_c101_floor_2d_scale_10_gives_the_distance_only_bks() -> None:
    """The known C101 solution costs 828.94 exactly and 827.3 truncated (the DIMACS BKS)."""
    if not C101.exists():
        pytest.skip(f"benchmark file not found: {C101}")
    routes = [[int(v) for v in line.split()] for line in C101_ROUTES.split("\n") if line]
    assert sorted(c for r in routes for c in r) == list(range(1, 101))
    cost, feasible = _route_cost_and_feasible(_read(C101, "hierarchical"), routes)
    assert feasible and round(cost, 2) == 828.94
    cost, feasible = _route_cost_and_feasible(_read(C101, "dimacs"), routes)
    assert feasible and cost == pytest.approx(827.3, abs=1e-9)


def test_unknown_convention() -> None:
    with pytest.raises(ValueError, match="unknown convention"):
        read_solomon("whatever.vrptw", convention="rounded")


SMALL = """NAME : tiny
TYPE : CVRPTW
DIMENSION : 3
VEHICLES : 2
CAPACITY : 50
SERVICE_TIME : 10
SCALE : 10
EDGE_WEIGHT_TYPE : FLOOR_2D
NODE_COORD_SECTION
1 0 0
2 1 1
3 3 4
DEMAND_SECTION
1 0
2 10
3 20
TIME_WINDOW_SECTION
1 0 100
2 5 50
3 0 80
DEPOT_SECTION
1
-1
EOF
"""


def _write(tmp_path: Path, text: str, name: str = "tiny.vrptw") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


def test_small_file_and_line_endings(tmp_path: Path) -> None:
    problem = read_solomon(_write(tmp_path, SMALL), convention="dimacs")
    assert problem.distance_m[0, 1] == 1.4  # floor(10 * 1.41421...) / 10
    assert problem.distance_m[0, 2] == 5.0
    messy = "\r\n".join("  " + line + " " for line in SMALL.splitlines()) + "\r\n\r\n"
    other = read_solomon(_write(tmp_path, messy, "messy.vrptw"), convention="dimacs")
    assert other.clients == problem.clients and other.depots == problem.depots
    no_service = read_solomon(_write(tmp_path, SMALL.replace("SERVICE_TIME : 10\n", "")))
    assert no_service.clients[0].service_s == 0.0


def _error(path: Path) -> InputError:
    with pytest.raises(InputError) as info:
        read_solomon(path)
    assert str(path) in str(info.value)
    return info.value


def test_empty_file(tmp_path: Path) -> None:
    assert "empty file" in str(_error(_write(tmp_path, "")))


@pytest.mark.parametrize(
    ("old", "new", "line", "needle"),
    [
        ("CAPACITY : 50\n", "", 8, "missing header line 'CAPACITY : <number>'"),
        ("VEHICLES : 2", "VEHICLES : 2.5", 4, "whole number for VEHICLES"),
        ("VEHICLES : 2", "VEHICLES : two", 4, "expected a number > 0 for VEHICLES"),
        ("TYPE : CVRPTW", "TYPE : TSP", 2, "TYPE : CVRPTW"),
        ("FLOOR_2D", "GEO", 8, "EDGE_WEIGHT_TYPE"),
        ("CAPACITY : 50", "CAPACITY = 50", 5, "'KEY : value'"),
        ("2 1 1\n", "2 1 x\n", 11, "expected 'id x y' with numbers, got '2 1 x'"),
        ("2 1 1\n", "2 1\n", 11, "expected 'id x y'"),
        ("3 20\n", "2 20\n", 16, "once in DEMAND_SECTION"),
        ("3 20\n", "3 -20\n", 16, "demand must be >= 0"),
        ("2 5 50\n", "2 50 5\n", 19, "due 5 is before ready 50"),
        ("3 0 80\n", "", 17, "TIME_WINDOW_SECTION has 2 rows"),
        ("DEPOT_SECTION\n1\n", "DEPOT_SECTION\n4\n", 22, "depot id 4"),
        ("-1\nEOF", "EOF", 23, "file ends inside DEPOT_SECTION"),
        ("EOF\n", "EOF\nmore\n", 25, "after EOF"),
        ("DEMAND_SECTION", "DEMAND_SECTIONS", 13, "expected 'id x y'"),
        ("DEMAND_SECTION", "PICKUP_SECTION", 13, "unknown section"),
    ],
)
def test_malformed_content(tmp_path: Path, old: str, new: str, line: int, needle: str) -> None:
    assert old in SMALL
    err = _error(_write(tmp_path, SMALL.replace(old, new)))
    assert needle in str(err)
    assert err.line == line


def test_missing_section(tmp_path: Path) -> None:
    text = SMALL.replace("DEMAND_SECTION\n1 0\n2 10\n3 20\n", "")
    err = _error(_write(tmp_path, text))
    assert "missing DEMAND_SECTION" in str(err) and err.line is not None


@pytest.mark.parametrize("fraction", [0.005, 0.03, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99])
@pytest.mark.parametrize("name", ["C101.100.10.vrptw", "RC208.100.4.vrptw"])
def test_truncated_real_file(tmp_path: Path, name: str, fraction: float) -> None:
    source = SET / name
    if not source.exists():
        pytest.skip(f"benchmark file not found: {source}")
    data = source.read_bytes()
    end = data.rindex(b"-1")
    path = tmp_path / name
    path.write_bytes(data[: int(end * fraction)])
    err = _error(path)
    assert err.line is not None
    assert re.match(rf"{re.escape(str(path))}:\d+: ", str(err))


@pytest.mark.parametrize("lineno", [3, 4, 10, 50, 150, 250, 310])
def test_real_file_with_garbage_number(tmp_path: Path, lineno: int) -> None:
    if not C101.exists():
        pytest.skip(f"benchmark file not found: {C101}")
    lines = C101.read_text().splitlines()
    lines[lineno - 1] = re.sub(r"\d+(?=\s*$)", "1o", lines[lineno - 1])
    path = _write(tmp_path, "\n".join(lines) + "\n", C101.name)
    err = _error(path)
    assert err.line == lineno
    assert f"{path}:{lineno}: " in str(err)


def test_name_falls_back_to_file_stem(tmp_path: Path) -> None:
    problem = read_solomon(_write(tmp_path, SMALL.replace("NAME : tiny\n", ""), "R9.100.2.vrptw"))
    assert problem.name == "R9"
    assert math.isclose(problem.distance_m[1, 2], math.hypot(2, 3))
