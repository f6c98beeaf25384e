"""An independent solution checker; it shares no code with the routing engine."""

from evfleet.checker.check import (
    ENERGY_REL_TOL,
    LOAD_REL_TOL,
    TIME_TOL_S,
    CheckReport,
    Kind,
    RouteReport,
    StopReport,
    Violation,
    check,
)

__all__ = [
    "ENERGY_REL_TOL",
    "LOAD_REL_TOL",
    "TIME_TOL_S",
    "CheckReport",
    "Kind",
    "RouteReport",
    "StopReport",
    "Violation",
    "check",
]
