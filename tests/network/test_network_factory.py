"""Picking a road network from a spec, and keeping the adapters' dependencies optional."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from evfleet.network import DEFAULT_SPEC, GreatCircleNetwork, network_from_spec


def test_default_is_great_circle() -> None:
    assert DEFAULT_SPEC == "great-circle"
    for spec in ("great-circle", "", "  great-circle "):
        assert isinstance(network_from_spec(spec), GreatCircleNetwork)
    assert isinstance(network_from_spec(), GreatCircleNetwork)


def test_osrm_spec() -> None:
    pytest.importorskip("httpx")
    from evfleet.network.osrm import OsrmNetwork

    network = network_from_spec("osrm:http://127.0.0.1:5000")
    assert isinstance(network, OsrmNetwork)
    assert network.name == "osrm:http://127.0.0.1:5000"
    assert network.profile == "driving"
    network.close()


def test_osm_spec() -> None:
    pyrosm = pytest.importorskip("pyrosm")
    path = pyrosm.get_data("test_pbf")  # the smaller extract pyrosm ships
    network = network_from_spec(f"osm:{path}")
    assert network.name == f"osm:{Path(path).name}"
    with pytest.raises(FileNotFoundError, match="nowhere"):
        network_from_spec("osm:/nowhere/x.osm.pbf")


@pytest.mark.parametrize("spec", ["haversine", "osm:", "osrm:", "osrm", "great-circle:2"])
def test_unknown_specs_list_the_forms(spec: str) -> None:
    with pytest.raises(ValueError, match=r"unknown road network .*great-circle.*osm:.*osrm:"):
        network_from_spec(spec)


def test_core_imports_no_adapter() -> None:
    """``import evfleet`` and ``import evfleet.network`` load neither adapter nor its deps."""
    code = (
        "import sys, evfleet, evfleet.network\n"
        "heavy = {'pyrosm', 'httpx', 'geopandas', 'evfleet.network.osm', 'evfleet.network.osrm'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout.strip()
    assert loaded == "[]"
