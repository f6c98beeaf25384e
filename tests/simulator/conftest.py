"""Fixtures: the two-van test plan and its fault-free simulated day."""

from __future__ import annotations

from typing import Any

import pytest
from sim_world import START, plan_doc

from evfleet.simulator import Simulation, SimulationSettings, simulate_plan


@pytest.fixture(scope="session")
def doc() -> dict[str, Any]:
    return plan_doc()


@pytest.fixture(scope="session")
def day(doc: dict[str, Any]) -> Simulation:
    return simulate_plan(doc, SimulationSettings(seed=7), start=START)
