"""WCCI-2020 EVRP reader: every real file, spot values, the depot question, bad input."""

from __future__ import annotations

import functools
import math
import re
from pathlib import Path

import pytest

from evfleet.errors import InputError
from evfleet.io.wcci import read_wcci
from evfleet.problem import INF, Objective, Problem, RechargePolicy

BENCH = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks"
SET = BENCH / "evrp-wcci2020"
FILES = sorted(SET.glob("*.evrp"))


@functools.cache
def _read(path: Path) -> Problem:
    return read_wcci(path)


def _independent(path: Path) -> dict[str, object]:
    """Header values, coordinates and station ids, parsed independently of the reader."""
    lines = [line.strip() for line in path.read_text().splitlines()]
    header = {
        line.split(":")[0].strip(): line.split(":", 1)[1].strip()
        for line in lines[: lines.index("NODE_COORD_SECTION")]
    }
    coords = lines[lines.index("NODE_COORD_SECTION") + 1 : lines.index("DEMAND_SECTION")]
    demands = lines[lines.index("DEMAND_SECTION") + 1 : lines.index("STATIONS_COORD_SECTION")]
    stations = lines[lines.index("STATIONS_COORD_SECTION") + 1 : lines.index("DEPOT_SECTION")]
    return {
        "header": header,
        "coords": {int(r.split()[0]): tuple(map(float, r.split()[1:])) for r in coords},
        "demands": {int(r.split()[0]): float(r.split()[1]) for r in demands},
        "stations": [int(r) for r in stations],
    }


@pytest.mark.parametrize("path", FILES or [None], ids=lambda p: p.stem if p else "absent")
def test_reads_every_file(path: Path | None) -> None:
    if path is None:
        pytest.skip(f"benchmark set not found: {SET}")
    problem = _read(path)
    info = _independent(path)
    header = info["header"]
    assert isinstance(header, dict)
    coords = info["coords"]
    assert isinstance(coords, dict)
    demands = info["demands"]
    assert isinstance(demands, dict)
    stations = info["stations"]
    assert isinstance(stations, list)
    dimension, num_stations = int(header["DIMENSION"]), int(header["STATIONS"])
    assert problem.name == path.stem
    assert problem.num_clients == dimension - 1
    assert problem.num_chargers == num_stations == len(stations)
    assert problem.objective is Objective.DISTANCE
    assert problem.recharge is RechargePolicy.FULL
    (vt,) = problem.vehicle_types
    assert vt.count is None
    assert vt.capacity_kg == float(header["CAPACITY"])
    assert vt.battery_wh == float(header["ENERGY_CAPACITY"])
    assert vt.energy_wh_per_m == float(header["ENERGY_CONSUMPTION"])
    depot = problem.depots[0]
    assert (depot.name, depot.x, depot.y) == ("1", *coords[1])
    assert (depot.tw_early_s, depot.tw_late_s) == (0.0, INF)
    assert [c.name for c in problem.clients] == [str(i) for i in range(2, dimension + 1)]
    for client in problem.clients:
        node = int(client.name)
        assert (client.x, client.y, client.demand_kg) == (*coords[node], demands[node])
        assert (client.service_s, client.tw_late_s) == (0.0, INF)
    assert [s.name for s in problem.chargers] == [str(i) for i in stations]
    for charger in problem.chargers:
        assert (charger.x, charger.y) == coords[int(charger.name)]
        assert charger.function.seconds_per_wh == 0.0
    # Quirk checked on every file: the depot is not listed among the stations, and no
    # station shares its coordinates.
    assert 1 not in stations
    assert all((s.x, s.y) != (depot.x, depot.y) for s in problem.chargers)
    # Double-precision Euclidean distances.
    last = problem.num_locations - 1
    x, y = problem.coordinates()
    expected = math.hypot(x[last] - x[0], y[last] - y[0])
    assert problem.distance_m[0, last] == pytest.approx(expected, rel=1e-15)


def test_e_n22_k4_spot_values() -> None:
    path = SET / "E-n22-k4.evrp"
    if not path.exists():
        pytest.skip(f"benchmark file not found: {path}")
    problem = _read(path)
    assert problem.num_clients == 21 and problem.num_chargers == 8
    vt = problem.vehicle_types[0]
    assert (vt.capacity_kg, vt.battery_wh, vt.energy_wh_per_m) == (6000.0, 94.0, 1.2)
    c2 = problem.clients[0]
    assert (c2.name, c2.x, c2.y, c2.demand_kg) == ("2", 151.0, 264.0, 1100.0)
    assert problem.chargers[0].name == "23"
    assert problem.distance_m[0, 1] == pytest.approx(math.hypot(6, 49), abs=1e-12)


SMALL = """Name: tiny
TYPE: EVRP
DIMENSION: 4
STATIONS: 2
CAPACITY: 100
ENERGY_CAPACITY: 50
ENERGY_CONSUMPTION: 1.5
EDGE_WEIGHT_FORMAT: EUC_2D
NODE_COORD_SECTION
1 0 0
2 3 4
3 6 8
4 -3 4
5 10 10
6 0 10
DEMAND_SECTION
1 0
2 10
3 20
4 30
STATIONS_COORD_SECTION
5
6
DEPOT_SECTION
1
-1
EOF
"""


def _write(tmp_path: Path, text: str, name: str = "tiny.evrp") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


def test_small_file_and_line_endings(tmp_path: Path) -> None:
    problem = read_wcci(_write(tmp_path, SMALL))
    assert [c.name for c in problem.clients] == ["2", "3", "4"]
    assert [s.name for s in problem.chargers] == ["5", "6"]
    assert problem.distance_m[0, 1] == 5.0
    messy = "\r\n".join(line + " \t" for line in SMALL.splitlines())
    other = read_wcci(_write(tmp_path, "\r\n" + messy + "\r\n\r\n", "messy.evrp"))
    assert other.clients == problem.clients and other.chargers == problem.chargers
    no_eof = read_wcci(_write(tmp_path, SMALL.replace("EOF\n", ""), "noeof.evrp"))
    assert no_eof.clients == problem.clients  # EOF is optional, as in TSPLIB


def test_depot_listed_as_station_becomes_a_charger_at_the_depot(tmp_path: Path) -> None:
    text = SMALL.replace("STATIONS: 2", "STATIONS: 3").replace(
        "STATIONS_COORD_SECTION\n", "STATIONS_COORD_SECTION\n1\n"
    )
    problem = read_wcci(_write(tmp_path, text))
    assert problem.num_clients == 3
    assert [s.name for s in problem.chargers] == ["1-charger", "5", "6"]
    depot, charger = problem.depots[0], problem.chargers[0]
    assert (charger.x, charger.y) == (depot.x, depot.y)


def _error(path: Path) -> InputError:
    with pytest.raises(InputError) as info:
        read_wcci(path)
    assert str(path) in str(info.value)
    return info.value


def test_empty_file(tmp_path: Path) -> None:
    assert "empty file" in str(_error(_write(tmp_path, "")))
    assert "empty file" in str(_error(_write(tmp_path, "\n \n", "blank.evrp")))


def test_garbage_coordinate_line_real_file(tmp_path: Path) -> None:
    source = SET / "E-n22-k4.evrp"
    if not source.exists():
        pytest.skip(f"benchmark file not found: {source}")
    lines = source.read_text().splitlines()
    lines[14 - 1] = "abc"
    path = _write(tmp_path, "\n".join(lines), "E-n22-k4.evrp")
    err = _error(path)
    assert str(err).startswith(f"{path}:14: expected 'id x y' with numbers, got 'abc'")


@pytest.mark.parametrize(
    ("old", "new", "line", "needle"),
    [
        ("CAPACITY: 100\n", "", 8, "missing header line 'CAPACITY: <number>'"),
        ("CAPACITY: 100", "CAPACITY: lots", 5, "expected a number > 0 for CAPACITY"),
        ("DIMENSION: 4", "DIMENSION: 4.5", 3, "a whole number"),
        ("EUC_2D", "GEO", 8, "EDGE_WEIGHT_FORMAT: EUC_2D"),
        ("TYPE: EVRP", "TYPE: CVRP", 2, "TYPE: EVRP"),
        ("ENERGY_CAPACITY: 50", "ENERGY_CAPACITY 50", 6, "'KEY: value'"),
        ("3 20\n", "3 x\n", 19, "expected 'id demand' with numbers"),
        ("3 20\n", "3 -20\n", 19, "demand must be >= 0"),
        ("3 20\n", "2 20\n", 19, "once in DEMAND_SECTION"),
        ("4 -3 4\n", "5 -3 4\n", 13, "expected node id 4"),
        ("5\n6\n", "5\n", 21, "lists 1 station ids, expected STATIONS = 2"),
        ("5\n6\n", "5\n3\n", 23, "station id 3 is a customer node"),
        ("5\n6\n", "5\n9\n", 23, "station id 9 has no coordinates"),
        ("DEPOT_SECTION\n1\n", "DEPOT_SECTION\n2\n", 25, "expected depot id 1"),
        ("6 0 10\n", "6 0 10\n7 1 1\n", 9, "has 7 rows, expected 6"),
        ("-1\nEOF", "EOF", 26, "file ends inside DEPOT_SECTION"),
        ("-1\nEOF", "-1\n7\nEOF", 27, "after the -1"),
        ("EOF\n", "EOF\n1 2 3\n", 28, "after EOF"),
        ("DEMAND_SECTION", "DEMANDS_SECTION", 16, "unknown section"),
        ("6 0 10\n", "6 0 10\nNODE_COORD_SECTION\n", 16, "appears twice"),
    ],
)
def test_malformed_content(tmp_path: Path, old: str, new: str, line: int, needle: str) -> None:
    assert old in SMALL
    err = _error(_write(tmp_path, SMALL.replace(old, new)))
    assert needle in str(err)
    assert err.line == line


def test_missing_section(tmp_path: Path) -> None:
    text = SMALL.replace("STATIONS_COORD_SECTION\n5\n6\n", "")
    err = _error(_write(tmp_path, text))
    assert "missing STATIONS_COORD_SECTION" in str(err)
    assert err.line is not None


@pytest.mark.parametrize("name", ["E-n22-k4.evrp", "X-n143-k7.evrp"])
@pytest.mark.parametrize("fraction", [0.01, 0.05, 0.2, 0.5, 0.8, 0.9, 0.95, 0.99])
def test_truncated_real_file(tmp_path: Path, name: str, fraction: float) -> None:
    source = SET / name
    if not source.exists():
        pytest.skip(f"benchmark file not found: {source}")
    data = source.read_bytes()
    end = data.rindex(b"-1")  # cutting before the final "-1" always leaves the file broken
    path = tmp_path / name
    path.write_bytes(data[: int(end * fraction)])
    err = _error(path)
    assert err.line is not None
    assert re.match(rf"{re.escape(str(path))}:\d+: ", str(err))


def test_real_file_truncated_after_each_section_header(tmp_path: Path) -> None:
    source = SET / "E-n22-k4.evrp"
    if not source.exists():
        pytest.skip(f"benchmark file not found: {source}")
    lines = source.read_text().splitlines(keepends=True)
    for k, line in enumerate(lines[:-2]):
        if "SECTION" in line or ":" in line:
            path = tmp_path / "cut.evrp"
            path.write_text("".join(lines[: k + 1]))
            err = _error(path)
            assert err.line is not None, str(err)
