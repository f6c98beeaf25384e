"""Fixtures: the Munich test plan (one route, five clients) as problem, route and document."""

from __future__ import annotations

import pytest
from tracking_fixture import the_route

from evfleet.problem import Problem
from evfleet.tracking import PlannedRoute


@pytest.fixture(scope="session")
def world() -> tuple[Problem, PlannedRoute, dict[str, object]]:
    return the_route()


@pytest.fixture(scope="session")
def problem(world: tuple[Problem, PlannedRoute, dict[str, object]]) -> Problem:
    return world[0]


@pytest.fixture(scope="session")
def route(world: tuple[Problem, PlannedRoute, dict[str, object]]) -> PlannedRoute:
    return world[1]


@pytest.fixture(scope="session")
def plan_doc(world: tuple[Problem, PlannedRoute, dict[str, object]]) -> dict[str, object]:
    return world[2]
