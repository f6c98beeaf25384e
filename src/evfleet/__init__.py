"""evfleet: plan, track, charge and account for electric delivery fleets."""

from evfleet.charging import ChargingFunction
from evfleet.model import Model
from evfleet.problem import (
    Charger,
    Client,
    Depot,
    Metric,
    Objective,
    Powertrain,
    Problem,
    RechargePolicy,
    VehicleType,
)
from evfleet.routing.solve import Progress, solve
from evfleet.solution import Route, Solution, Visit

__version__ = "0.1.0"

__all__ = [
    "Charger",
    "ChargingFunction",
    "Client",
    "Depot",
    "Metric",
    "Model",
    "Objective",
    "Powertrain",
    "Problem",
    "Progress",
    "RechargePolicy",
    "Route",
    "Solution",
    "VehicleType",
    "Visit",
    "__version__",
    "solve",
]
