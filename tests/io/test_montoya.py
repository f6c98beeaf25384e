"""Montoya et al. E-VRP-NL reader: every real file, unit conversions, bad input."""

from __future__ import annotations

import functools
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from evfleet.errors import InputError
from evfleet.io.montoya import read_montoya
from evfleet.problem import INF, Objective, Problem, RechargePolicy

BENCH = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks"
SET = BENCH / "evrp-nl-montoya"
FILES = sorted(SET.glob("*.xml"))
SPOT = SET / "tc0c10s2cf1.xml"


@functools.cache
def _read(path: Path) -> Problem:
    return read_montoya(path)


@pytest.mark.parametrize("path", FILES or [None], ids=lambda p: p.stem if p else "absent")
def test_reads_every_file(path: Path | None) -> None:
    if path is None:
        pytest.skip(f"benchmark set not found: {SET}")
    problem = _read(path)
    root = ET.parse(path).getroot()
    nodes = root.findall("./network/nodes/node")
    customers = [n for n in nodes if n.get("type") == "1"]
    stations = [n for n in nodes if n.get("type") == "2"]
    (depot,) = [n for n in nodes if n.get("type") == "0"]
    profile = root.find("./fleet/vehicle_profile")
    assert profile is not None
    assert problem.name == path.stem
    assert problem.num_clients == len(customers)
    assert problem.num_chargers == len(stations)
    assert problem.objective is Objective.DRIVING_AND_CHARGING_TIME
    assert problem.recharge is RechargePolicy.PARTIAL
    d = problem.depots[0]
    assert (d.x, d.y) == (
        float(depot.findtext("cx", "")) * 1000,
        float(depot.findtext("cy", "")) * 1000,
    )
    (vt,) = problem.vehicle_types
    assert vt.count is None and vt.capacity_kg == INF
    assert vt.battery_wh == float(profile.findtext("custom/battery_capacity", ""))
    assert vt.energy_wh_per_m == pytest.approx(
        float(profile.findtext("custom/consumption_rate", "")) / 1000
    )
    assert vt.max_duration_s == pytest.approx(float(profile.findtext("max_travel_time", "")) * 3600)
    speed = float(profile.findtext("speed_factor", "")) / 3.6
    assert problem.metric is not None
    assert problem.metric.speed_m_per_s == pytest.approx(speed)
    service = {
        r.get("node"): float(r.findtext("service_time", "")) * 3600
        for r in root.findall("./requests/request")
    }
    for client, node in zip(problem.clients, customers, strict=True):
        assert client.name == node.get("id")
        assert client.x == pytest.approx(float(node.findtext("cx", "")) * 1000)
        assert client.service_s == pytest.approx(service[node.get("id")])
        assert (client.demand_kg, client.tw_late_s) == (0.0, INF)
    functions = {
        f.get("cs_type"): [
            (float(b.findtext("battery_level", "")), float(b.findtext("charging_time", "")) * 3600)
            for b in f.findall("breakpoint")
        ]
        for f in profile.findall("custom/charging_functions/function")
    }
    for charger, node in zip(problem.chargers, stations, strict=True):
        assert charger.name == node.get("id")
        expected = functions[node.findtext("custom/cs_type")]
        assert charger.function.breakpoints == tuple(expected)
        assert charger.function.breakpoints[0] == (0.0, 0.0)
    # Metres on the coordinates; durations at the profile speed.
    x, y = problem.coordinates()
    assert problem.distance_m[0, 1] == pytest.approx(math.hypot(x[1] - x[0], y[1] - y[0]))
    assert problem.duration_s[0, 1] == pytest.approx(problem.distance_m[0, 1] / speed)


def test_tc0c10s2cf1_spot_values() -> None:
    if not SPOT.exists():
        pytest.skip(f"benchmark file not found: {SPOT}")
    problem = _read(SPOT)
    assert problem.num_clients == 10 and problem.num_chargers == 2
    vt = problem.vehicle_types[0]
    assert vt.battery_wh == 16000.0
    assert vt.energy_wh_per_m == 0.125
    assert vt.max_duration_s == 36000.0
    assert problem.metric is not None
    assert problem.metric.speed_m_per_s == pytest.approx(11.111, abs=1e-3)
    fast = problem.chargers[0].function
    assert fast.breakpoints[0] == (0.0, 0.0)
    assert len(fast.breakpoints) - 1 == 3
    energies = [e for e, _ in fast.breakpoints[1:]]
    times = [t for _, t in fast.breakpoints[1:]]
    assert energies == [13600.0, 15200.0, 16000.0]
    assert times == pytest.approx([0.31 * 3600, 0.39 * 3600, 0.51 * 3600])
    depot, first = problem.depots[0], problem.clients[0]
    assert (depot.x, depot.y) == pytest.approx((77590.0, 78350.0))
    assert (first.name, first.service_s) == ("1", 1800.0)
    assert problem.distance_m[0, 1] == pytest.approx(
        1000 * math.hypot(77.59 - 12.44, 78.35 - 47.61)
    )


def _error(path: Path) -> InputError:
    with pytest.raises(InputError) as info:
        read_montoya(path)
    assert str(path) in str(info.value)
    return info.value


def _spot_text() -> str:
    if not SPOT.exists():
        pytest.skip(f"benchmark file not found: {SPOT}")
    return SPOT.read_bytes().decode()


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def _write(tmp_path: Path, text: str, name: str = "tc0c10s2cf1.xml") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


def test_empty_file(tmp_path: Path) -> None:
    assert "empty file" in str(_error(_write(tmp_path, "")))
    assert "empty file" in str(_error(_write(tmp_path, " \r\n", "blank.xml")))


def test_unix_line_endings_read_the_same(tmp_path: Path) -> None:
    text = _spot_text()
    assert "\r\n" in text  # the real files use Windows line endings
    other = read_montoya(_write(tmp_path, text.replace("\r\n", "\n")))
    original = _read(SPOT)
    assert other.clients == original.clients and other.chargers == original.chargers


@pytest.mark.parametrize("fraction", [0.0005, 0.05, 0.2, 0.4, 0.6, 0.8, 0.95, 0.999])
@pytest.mark.parametrize("name", ["tc0c10s2cf1.xml", "tc2c320s24ct4.xml"])
def test_truncated_real_file(tmp_path: Path, name: str, fraction: float) -> None:
    source = SET / name
    if not source.exists():
        pytest.skip(f"benchmark file not found: {source}")
    data = source.read_bytes()
    path = tmp_path / name
    path.write_bytes(data[: max(1, int(len(data) * fraction))])
    err = _error(path)
    assert "XML parse error" in str(err)
    assert err.line is not None
    assert re.match(rf"{re.escape(str(path))}:\d+: ", str(err))


def test_garbled_xml_names_line(tmp_path: Path) -> None:
    text = _spot_text()
    line = _line_of(text, "<cy>93.64</cy>")
    err = _error(_write(tmp_path, text.replace("<cy>93.64</cy>", "<cy>93.64</cx>")))
    assert err.line == line and "mismatched tag" in str(err)


@pytest.mark.parametrize(
    ("old", "new", "anchor", "needle"),
    [
        ("<cx>12.44</cx>", "<cx>abc</cx>", "<cx>12.44</cx>", "<cx>: expected a number, got 'abc'"),
        ("<speed_factor>40</speed_factor>", "", "<vehicle_profile", "lacks <speed_factor>"),
        (
            "<battery_capacity>16000</battery_capacity>",
            "<battery_capacity>-1</battery_capacity>",
            "<battery_capacity>",
            "expected a number >= 0",
        ),
        ("<max_travel_time>10", "<max_travel_time>inf", "<max_travel_time>", "a number"),
        ('<node id="2" type="1">', '<node id="2" type="7">', '<node id="2"', "got '7'"),
        ('<node id="3" type="1">', '<node id="2"  type="1">', '<node id="2"  ', "twice"),
        ('<node id="3" type="1">', '<node type="1">', '<node type="1">', "attribute id="),
        ('<function cs_type="fast">', '<function cs_type="turbo">', '<node id="11"', "'fast'"),
        ('<request id="1" node="1">', '<request id="1" node="11">', '<request id="1"', "not a"),
        ('<request id="10" node="10">', '<request id="10" node="9">', '<request id="10"', "second"),
        (
            "<battery_level>13600</battery_level>",
            "<battery_level>17000</battery_level>",
            '<function cs_type="fast">',
            "strictly increasing",
        ),
        (
            "<charging_time>0.0</charging_time>",
            "<charging_time>0.1</charging_time>",
            '<function cs_type="fast">',
            "first breakpoint (0, 0)",
        ),
        ("<departure_node>0<", "<departure_node>5<", "<departure_node>", "the depot node 0"),
        ('<node id="0" type="0">', '<node id="0" type="1">', "<nodes>", "one depot node"),
    ],
)
def test_malformed_content(tmp_path: Path, old: str, new: str, anchor: str, needle: str) -> None:
    text = _spot_text()
    assert old in text
    changed = text.replace(old, new, 1)
    err = _error(_write(tmp_path, changed))
    assert needle in str(err)
    assert err.line == _line_of(changed if anchor in changed else text, anchor)


def test_customer_without_request(tmp_path: Path) -> None:
    text = _spot_text()
    start = text.index('<request id="10"')
    end = text.index("</request>", start) + len("</request>")
    changed = text[:start] + text[end:]
    err = _error(_write(tmp_path, changed))
    assert "customer node 10 has no <request>" in str(err)
    assert err.line == _line_of(changed, '<node id="10"')


def test_unknown_encoding_declaration(tmp_path: Path) -> None:
    text = _spot_text().replace('encoding="UTF-8"', 'encoding="UT4F-8"')
    err = _error(_write(tmp_path, text))
    assert err.line == 1 and "unknown encoding" in str(err)


def test_wrong_root_and_not_xml(tmp_path: Path) -> None:
    err = _error(_write(tmp_path, "<?xml version='1.0'?>\n<dataset/>\n"))
    assert err.line == 2 and "<instance>" in str(err)
    err = _error(_write(tmp_path, "NAME : not xml\n", "x.xml"))
    assert err.line == 1 and "XML parse error" in str(err)
