"""The fleet simulator: drives every route of a plan and publishes realistic telemetry.

An adapter around the pure cores: :mod:`.model` (noise and weather), :mod:`.van` (one van's
day and its fixes), :mod:`.faults` (dropouts, duplicates, reordering, a van running low) and
:mod:`.fleet` (the whole plan, merged, deterministic for a seed) make the stream;
:mod:`.publish` sends it in scaled real time over MQTT, HTTP or to JSON lines;
:mod:`.sources` loads the plan. ``evfleet simulate`` is the command line.

Units: m, s, m/s, Wh, %, °C; times of day in s since the plan's local midnight.
"""

from evfleet.simulator.faults import (
    Delivery,
    FaultLog,
    FaultSettings,
    FaultSpecError,
    apply_faults,
    parse_faults,
)
from evfleet.simulator.fleet import (
    Simulation,
    SimulationSettings,
    default_start,
    default_vehicle_id,
    parse_start,
    simulate_plan,
)
from evfleet.simulator.model import NoiseSettings, Weather, WeatherSettings
from evfleet.simulator.sources import FilePlanSource, PlanSource, plan_source
from evfleet.simulator.van import Phase, Segment, StopTruth, VanOptions, VanRun, simulate_van

__all__ = [
    "Delivery",
    "FaultLog",
    "FaultSettings",
    "FaultSpecError",
    "FilePlanSource",
    "NoiseSettings",
    "Phase",
    "PlanSource",
    "Segment",
    "Simulation",
    "SimulationSettings",
    "StopTruth",
    "VanOptions",
    "VanRun",
    "Weather",
    "WeatherSettings",
    "apply_faults",
    "default_start",
    "default_vehicle_id",
    "parse_faults",
    "parse_start",
    "plan_source",
    "simulate_plan",
    "simulate_van",
]
