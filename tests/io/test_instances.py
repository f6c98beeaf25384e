"""Format detection, dispatch and best-known values beside the benchmark files."""

from __future__ import annotations

import shutil
import sys
import types
from pathlib import Path

import pytest

from evfleet.errors import InputError
from evfleet.io.instances import BestKnown, bks_for, detect_format, read_instance
from evfleet.problem import Objective, Problem, RechargePolicy

BENCH = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks"
SETS = {
    "schneider": ("evrptw-schneider", "*.txt"),
    "wcci": ("evrp-wcci2020", "*.evrp"),
    "montoya": ("evrp-nl-montoya", "*.xml"),
    "solomon": ("solomon", "*.vrptw"),
}
REAL = [
    (fmt, path)
    for fmt, (folder, pattern) in SETS.items()
    for path in sorted((BENCH / folder).glob(pattern))
]


def _bench(relative: str) -> Path:
    path = BENCH / relative
    if not path.exists():
        pytest.skip(f"benchmark file not found: {path}")
    return path


@pytest.mark.parametrize(
    ("fmt", "path"), REAL or [(None, None)], ids=lambda v: v.name if isinstance(v, Path) else v
)
def test_detects_and_finds_bks_for_every_real_file(fmt: str | None, path: Path | None) -> None:
    if fmt is None or path is None:
        pytest.skip(f"benchmark sets not found under {BENCH}")
    assert detect_format(path) == fmt
    best = bks_for(path)
    assert isinstance(best, BestKnown)
    assert best.instance == path.name.split(".")[0]
    assert best.cost > 0
    if fmt == "montoya":
        assert best.listed_cost is not None and best.cost == best.listed_cost * 3600
    else:
        assert best.cost == best.listed_cost


def test_bks_schneider_full_and_partial_rows() -> None:
    path = _bench("evrptw-schneider/c101_21.txt")
    full = bks_for(path)
    partial = bks_for(path, recharge="partial")
    assert full is not None and partial is not None
    assert (full.cost, full.vehicles) == (1053.83, 12)
    assert (partial.cost, partial.vehicles) == (1043.38, 12)
    assert "full recharge" in full.objective and "partial" in partial.objective
    assert bks_for(path, recharge=RechargePolicy.FULL) == full
    small = _bench("evrptw-schneider/c101C5.txt")
    best = bks_for(small)
    assert best is not None and (best.cost, best.vehicles) == (257.75, 2)
    assert bks_for(small, recharge="partial") is None  # PR values exist for _21 files only


def test_bks_solomon_hierarchical_and_distance_only_rows() -> None:
    path = _bench("solomon/C101.100.10.vrptw")
    hierarchical = bks_for(path)
    dimacs = bks_for(path, convention="dimacs")
    assert hierarchical is not None and dimacs is not None
    assert (hierarchical.cost, hierarchical.vehicles) == (828.94, 10)
    assert (dimacs.cost, dimacs.vehicles) == (827.3, None)
    assert bks_for(path, convention="hierarchical") == hierarchical
    with pytest.raises(ValueError, match="convention"):
        bks_for(path, convention="rounded")


def test_bks_montoya_is_converted_to_seconds() -> None:
    best = bks_for(_bench("evrp-nl-montoya/tc0c10s2cf1.xml"))
    assert best is not None
    assert best.listed_cost == 19.75 and best.cost == pytest.approx(19.75 * 3600)
    assert best.vehicles == 3


def test_bks_wcci() -> None:
    best = bks_for(_bench("evrp-wcci2020/E-n22-k4.evrp"))
    assert best is not None and (best.cost, best.vehicles) == (384.68, None)


def test_bks_absent_or_malformed(tmp_path: Path) -> None:
    source = _bench("evrp-wcci2020/E-n22-k4.evrp")
    path = tmp_path / source.name
    shutil.copy(source, path)
    assert bks_for(path) is None  # no bks.csv beside it
    header = "instance,best_known_cost,vehicles,objective,source,notes\n"
    (tmp_path / "bks.csv").write_text(header + "E-n23-k3,1,,d,s,\nE-n22-k4,lots,,d,s,\n")
    with pytest.raises(InputError) as info:
        bks_for(path)
    assert info.value.line == 3 and "bks.csv" in str(info.value)
    (tmp_path / "bks.csv").write_text(header + "other,1,,d,s,\n")
    assert bks_for(path) is None


def test_read_instance_dispatches_on_every_set() -> None:
    schneider = read_instance(_bench("evrptw-schneider/c101C5.txt"))
    assert schneider.name == "c101C5" and schneider.recharge is RechargePolicy.FULL
    partial = read_instance(_bench("evrptw-schneider/c101C5.txt"), recharge="partial")
    assert partial.recharge is RechargePolicy.PARTIAL
    wcci = read_instance(_bench("evrp-wcci2020/E-n22-k4.evrp"))
    assert wcci.objective is Objective.DISTANCE and wcci.num_clients == 21
    montoya = read_instance(_bench("evrp-nl-montoya/tc0c10s2cf1.xml"), recharge="partial")
    assert montoya.objective is Objective.DRIVING_AND_CHARGING_TIME
    solomon = read_instance(_bench("solomon/C101.100.10.vrptw"), convention="dimacs")
    assert solomon.objective is Objective.DISTANCE and solomon.metric is not None
    assert solomon.metric.truncate_decimals == 1
    assert read_instance(_bench("solomon/C101.100.10.vrptw")).objective is (
        Objective.VEHICLES_THEN_DISTANCE
    )
    # An explicit format overrides detection.
    forced = read_instance(_bench("evrptw-schneider/c101C5.txt"), format="schneider")
    assert forced.num_clients == 5


def test_read_instance_rejects_options_that_do_not_apply() -> None:
    with pytest.raises(ValueError, match="recharge"):
        read_instance(_bench("evrp-nl-montoya/tc0c10s2cf1.xml"), recharge="full")
    with pytest.raises(ValueError, match="recharge"):
        read_instance(_bench("evrp-wcci2020/E-n22-k4.evrp"), recharge="partial")
    with pytest.raises(ValueError, match="convention"):
        read_instance(_bench("evrp-wcci2020/E-n22-k4.evrp"), convention="dimacs")
    with pytest.raises(ValueError):
        read_instance(_bench("evrptw-schneider/c101C5.txt"), recharge="sometimes")


def test_read_instance_unknown_format(tmp_path: Path) -> None:
    path = tmp_path / "x.vrp"
    path.write_text("NAME : x\n")
    with pytest.raises(InputError, match="unknown format 'csv'") as info:
        read_instance(path, format="csv")
    assert str(path) in str(info.value)


def test_json_is_read_by_the_problem_json_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "p.json"
    path.write_text('{"format": "evfleet-problem/1"}')
    sentinel = object()
    fake = types.ModuleType("evfleet.io.problem_json")
    calls: list[Path] = []

    def read_problem_json(p: Path) -> object:
        calls.append(Path(p))
        return sentinel

    fake.read_problem_json = read_problem_json  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "evfleet.io.problem_json", fake)
    assert detect_format(path) == "json"
    assert read_instance(path) is sentinel
    assert calls == [path]


SOLOMON_TEXT = """C101

VEHICLE
NUMBER     CAPACITY
  25         200

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

    0      40         50          0          0       1236          0
    1      45         68         10        912        967         90
"""


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("a.json", '  {"x": 1}', "json"),
        ("a.txt", "\n{\n}", "json"),
        ("a.vrp", "NAME : a\nTYPE : CVRP\nDIMENSION : 2\n", "vrplib"),
        ("a.dat", "NAME : a\nTYPE : CVRP\nNODE_COORD_SECTION\n1 0 0\n", "vrplib"),
        ("a.txt", SOLOMON_TEXT, "vrplib"),
        ("a.txt", "NAME : C101\nTYPE : CVRPTW\nSCALE : 10\n", "solomon"),
        ("a.vrptw", "garbage", "solomon"),
        ("a", "StringID   Type  x y demand ReadyTime DueDate ServiceTime\n", "schneider"),
        ("a.txt", "Name: x\nTYPE: EVRP \nDIMENSION: 3\n", "wcci"),
        ("a.evrp", "whatever", "wcci"),
        ("a.dat", "<?xml version='1.0'?>\n<instance>", "montoya"),
        ("a.xml", "<?xml version='1.0'?>\n<instance>", "montoya"),
    ],
)
def test_detect_format_by_content_and_extension(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    assert detect_format(path) == expected


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("a.dat", b"hello world\n", "unknown format"),
        ("a.txt", b"\x00\x01\x02\xff", "unknown format"),
        ("a.txt", b"", "empty file"),
        ("a.evrp", b" \n\n", "empty file"),
    ],
)
def test_detect_format_errors(tmp_path: Path, name: str, content: bytes, needle: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=needle) as info:
        detect_format(path)
    assert str(path) in str(info.value)
    with pytest.raises(InputError):
        read_instance(path)


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read file"):
        read_instance(tmp_path / "nope.txt")


@pytest.mark.parametrize(
    ("relative", "cut"),
    [
        ("evrptw-schneider/c101C5.txt", 300),
        ("evrp-wcci2020/E-n22-k4.evrp", 400),
        ("evrp-nl-montoya/tc0c10s2cf1.xml", 900),
        ("solomon/C101.100.10.vrptw", 700),
    ],
)
def test_read_instance_on_truncated_files(tmp_path: Path, relative: str, cut: int) -> None:
    source = _bench(relative)
    path = tmp_path / source.name
    path.write_bytes(source.read_bytes()[:cut])
    with pytest.raises(InputError) as info:
        read_instance(path)
    assert info.value.line is not None and f"{path}:{info.value.line}: " in str(info.value)


def test_problems_are_problems() -> None:
    assert isinstance(read_instance(_bench("evrp-wcci2020/E-n23-k3.evrp")), Problem)
