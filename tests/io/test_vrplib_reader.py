"""Plain VRPLIB / Solomon-text reader (through ``vrplib``) on small files, and bad input."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from evfleet.errors import InputError
from evfleet.io.vrplib_reader import read_vrplib
from evfleet.problem import INF, Objective, Powertrain

CVRP = """NAME : tiny-n5
COMMENT : five nodes
TYPE : CVRP
DIMENSION : 5
CAPACITY : 10
EDGE_WEIGHT_TYPE : EUC_2D
NODE_COORD_SECTION
1 0 0
2 3 4
3 6 8
4 0 5
5 1 1
DEMAND_SECTION
1 0
2 3
3 4
4 5
5 2
DEPOT_SECTION
1
-1
EOF
"""

EXPLICIT = """NAME : explicit-n4
TYPE : CVRP
DIMENSION : 4
CAPACITY : 7
VEHICLES : 2
EDGE_WEIGHT_TYPE : EXPLICIT
EDGE_WEIGHT_FORMAT : LOWER_ROW
EDGE_WEIGHT_SECTION
3
4 5
6 7 8
DEMAND_SECTION
1 0
2 3
3 3
4 4
DEPOT_SECTION
1
-1
EOF
"""

SOLOMON_TEXT = """TINY25

VEHICLE
NUMBER     CAPACITY
  3         200

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

    0      40         50          0          0       1236          0
    1      45         68         10        912        967         90
    2      45         70         30        825        870         90
    3      42         66         10         65        146         90
"""


def _write(tmp_path: Path, text: str, name: str = "tiny.vrp") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


def test_five_node_cvrp(tmp_path: Path) -> None:
    problem = read_vrplib(_write(tmp_path, CVRP))
    assert problem.name == "tiny-n5"
    assert problem.num_depots == 1 and problem.num_clients == 4 and problem.num_chargers == 0
    assert problem.objective is Objective.DISTANCE
    assert problem.metric is None  # explicit matrices
    assert [c.name for c in problem.clients] == ["2", "3", "4", "5"]
    assert [c.demand_kg for c in problem.clients] == [3.0, 4.0, 5.0, 2.0]
    assert (problem.clients[0].x, problem.clients[0].y) == (3.0, 4.0)
    assert problem.clients[0].tw_late_s == INF
    (vt,) = problem.vehicle_types
    assert vt.capacity_kg == 10.0 and vt.count is None
    assert vt.powertrain is Powertrain.DIESEL
    assert problem.distance_m[0, 1] == 5.0 and problem.distance_m[0, 2] == 10.0
    assert problem.distance_m[0, 4] == pytest.approx(math.sqrt(2))  # vrplib 2.x: unrounded
    assert np.array_equal(problem.duration_s, problem.distance_m)


def test_explicit_lower_row_matrix(tmp_path: Path) -> None:
    problem = read_vrplib(_write(tmp_path, EXPLICIT))
    expected = np.array([[0, 3, 4, 6], [3, 0, 5, 7], [4, 5, 0, 8], [6, 7, 8, 0]], dtype=float)
    assert np.array_equal(problem.distance_m, expected)
    assert problem.vehicle_types[0].count == 2
    assert problem.clients[2].x == 0.0  # no coordinates in the file


def test_depot_not_first_node_is_moved_first(tmp_path: Path) -> None:
    text = CVRP.replace("DEPOT_SECTION\n1\n", "DEPOT_SECTION\n3\n").replace("3 4\n4 5", "3 0\n4 5")
    problem = read_vrplib(_write(tmp_path, text.replace("1 0\n2 3", "1 4\n2 3")))
    assert problem.depots[0].name == "3" and (problem.depots[0].x, problem.depots[0].y) == (6, 8)
    assert [c.name for c in problem.clients] == ["1", "2", "4", "5"]
    assert problem.distance_m[0, 1] == 10.0  # node 3 -> node 1
    assert problem.clients[0].demand_kg == 4.0


def test_solomon_text_layout(tmp_path: Path) -> None:
    problem = read_vrplib(_write(tmp_path, SOLOMON_TEXT, "tiny25.txt"))
    assert problem.name == "TINY25"
    assert problem.num_clients == 3
    assert [c.name for c in problem.clients] == ["1", "2", "3"]
    assert problem.depots[0].tw_late_s == 1236.0
    c1 = problem.clients[0]
    assert (c1.demand_kg, c1.tw_early_s, c1.tw_late_s, c1.service_s) == (10, 912, 967, 90)
    vt = problem.vehicle_types[0]
    assert (vt.count, vt.capacity_kg, vt.shift_end_s) == (3, 200.0, 1236.0)
    assert problem.distance_m[0, 1] == pytest.approx(math.hypot(5, 18))


def test_windows_line_endings(tmp_path: Path) -> None:
    plain = read_vrplib(_write(tmp_path, CVRP))
    crlf = read_vrplib(_write(tmp_path, CVRP.replace("\n", " \r\n"), "crlf.vrp"))
    assert crlf.clients == plain.clients
    assert np.array_equal(crlf.distance_m, plain.distance_m)


def _error(path: Path) -> InputError:
    with pytest.raises(InputError) as info:
        read_vrplib(path)
    assert str(path) in str(info.value)
    return info.value


def test_empty_file(tmp_path: Path) -> None:
    assert "empty file" in str(_error(_write(tmp_path, "")))
    assert "empty file" in str(_error(_write(tmp_path, "\n\n", "blank.vrp")))


@pytest.mark.parametrize(
    ("old", "new", "line", "needle"),
    [
        ("2 3 4\n", "2 3 abc\n", 9, "expected numbers in NODE_COORD_SECTION, got 'abc'"),
        ("4 5\n5 2", "4 5\nCAPACITY : 3\n5 2", 18, "after the data sections began"),
        ("COMMENT : five nodes", "COMMENT five nodes", 2, "'KEY : value'"),
        ("DIMENSION : 5", "DIMENSION : 6", 7, "DIMENSION is 6"),
        ("5 1 1\n", "", 7, "DIMENSION is 5 but the distance data has 4 nodes"),
        ("5 2\nDEPOT", "DEPOT", 13, "DEMAND has shape (4,), expected (5,)"),
        ("CAPACITY : 10", "CAPACITY : ten", 5, "CAPACITY must be one number > 0"),
        ("3 4\n4 5", "3 -4\n4 5", 13, "demands must be >= 0"),
        ("DEPOT_SECTION\n1\n", "DEPOT_SECTION\n9\n", 19, "DEPOT_SECTION"),
    ],
)
def test_malformed_content(tmp_path: Path, old: str, new: str, line: int, needle: str) -> None:
    assert old in CVRP
    err = _error(_write(tmp_path, CVRP.replace(old, new)))
    assert needle in str(err)
    assert err.line == line


@pytest.mark.parametrize("lines", [1, 3, 6, 8, 12, 16])
def test_truncated(tmp_path: Path, lines: int) -> None:
    text = "".join(CVRP.splitlines(keepends=True)[:lines])
    _error(_write(tmp_path, text))


@pytest.mark.parametrize(
    ("old", "new", "line", "needle"),
    [
        ("EUC_2D", "MAGIC", 6, "EDGE_WEIGHT_TYPE 'MAGIC' is not one that vrplib computes"),
        ("EDGE_WEIGHT_TYPE : EUC_2D\n", "", 6, "missing 'EDGE_WEIGHT_TYPE : <type>'"),
        ("EUC_2D", "EXPLICIT", 6, "needs an EDGE_WEIGHT_SECTION"),
        ("3 6 8\n", "3 6\n", 10, "expected 3 numbers per row in NODE_COORD_SECTION"),
        ("CAPACITY : 10", "CAPACITY :\f10", 5, "control character U+000C"),
    ],
)
def test_layout_errors_found_before_vrplib(
    tmp_path: Path, old: str, new: str, line: int, needle: str
) -> None:
    err = _error(_write(tmp_path, CVRP.replace(old, new)))
    assert needle in str(err)
    assert err.line == line


def test_missing_node_coord_section(tmp_path: Path) -> None:
    start, end = CVRP.index("NODE_COORD_SECTION"), CVRP.index("DEMAND_SECTION")
    err = _error(_write(tmp_path, CVRP[:start] + CVRP[end:]))
    assert "missing NODE_COORD_SECTION" in str(err) and err.line is not None


def test_explicit_matrix_needs_a_format(tmp_path: Path) -> None:
    err = _error(_write(tmp_path, EXPLICIT.replace("EDGE_WEIGHT_FORMAT : LOWER_ROW\n", "")))
    assert "EDGE_WEIGHT_FORMAT" in str(err) and err.line == 7


def test_errors_inside_vrplib_become_input_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise IndexError("list index out of range")

    monkeypatch.setattr("vrplib.read_instance", broken)
    err = _error(_write(tmp_path, CVRP))
    assert "vrplib cannot read this file: IndexError: list index out of range" in str(err)


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [
        ("    2      45         70", "    2      45         7O", 12),
        ("CUST NO.", "CUSTOMER NO", 8),
        ("  3         200", "  3         2OO", 5),
    ],
)
def test_malformed_solomon_text(tmp_path: Path, old: str, new: str, line: int) -> None:
    assert old in SOLOMON_TEXT
    err = _error(_write(tmp_path, SOLOMON_TEXT.replace(old, new), "bad.txt"))
    assert err.line == line


def test_truncated_solomon_text(tmp_path: Path) -> None:
    text = SOLOMON_TEXT.rsplit("\n", 3)[0][:-20]
    err = _error(_write(tmp_path, text, "cut.txt"))
    assert err.line == 11


def test_solomon_text_without_customers(tmp_path: Path) -> None:
    text = SOLOMON_TEXT.split("    1      45")[0]
    err = _error(_write(tmp_path, text, "depot-only.txt"))
    assert "at least one customer row" in str(err) and err.line == 10
