"""A plan as plain data: routes of visits, each route driven by one vehicle of a type.

A route lists the visits between leaving and returning to its vehicle type's depot. A visit
to a charger may say how much energy is charged there (``charge_wh``, in Wh); without it
the battery is filled.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Visit:
    """A stop at location ``location`` (shared location index); ``charge_wh`` at chargers."""

    location: int
    charge_wh: float | None = None


@dataclass(frozen=True)
class Route:
    """One vehicle's day: leave the depot of ``vehicle_type``, make ``visits``, return."""

    vehicle_type: int
    visits: tuple[Visit, ...]
    start_s: float | None = None
    """Departure time from the depot in s; ``None``: as early as the shift allows."""

    def locations(self) -> list[int]:
        return [v.location for v in self.visits]


@dataclass(frozen=True)
class Solution:
    """A set of routes for one problem, with search statistics when a solver made it."""

    routes: tuple[Route, ...]
    problem_name: str = ""
    stats: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def num_routes(self) -> int:
        return sum(1 for r in self.routes if r.visits)
