"""Generates ``src/evfleet/examples/city-day.json``, the bundled example.

A synthetic but realistic city day: 60 stops within about 25 km of a depot, in metres on a
local plane; e-vans with a 37 kWh usable battery at a winter consumption of 0.33 Wh/m;
a 22 kW depot charger and two public 50 kW DC chargers that taper above 80 %.
Run: ``python examples/make_city_day.py``.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

from evfleet import ChargingFunction, Metric, Model, Objective

HOUR = 3600.0


def build() -> Model:
    rng = random.Random(2026)
    m = Model("city-day")
    m.objective = Objective.COST
    m.set_metric(Metric(speed_m_per_s=7.0))  # about 25 km/h door to door in town
    m.add_depot(0, 0, name="Depot", tw_early_s=6 * HOUR, tw_late_s=19 * HOUR)
    battery = 37_000.0
    m.add_vehicle_type(
        name="e-van-37kWh",
        count=8,
        capacity_kg=900,
        battery_wh=battery,
        energy_wh_per_m=0.33,
        fixed_cost=40.0,
        cost_per_s=30.0 / HOUR,
        shift_start_s=7 * HOUR,
        shift_end_s=17 * HOUR,
    )
    for k in range(60):
        r = 25_000 * math.sqrt(rng.random())
        a = rng.uniform(0, 2 * math.pi)
        window = rng.random()
        early, late = (7 * HOUR, 17 * HOUR)
        if window < 0.25:
            early, late = 9 * HOUR, 12 * HOUR
        elif window < 0.45:
            early, late = 13 * HOUR, 16 * HOUR
        m.add_client(
            round(r * math.cos(a)),
            round(r * math.sin(a)),
            name=f"stop-{k + 1:02d}",
            demand_kg=rng.randint(5, 60),
            service_s=rng.choice([120, 180, 240, 300]),
            tw_early_s=early,
            tw_late_s=late,
        )
    m.add_charger(0, 0, name="depot-22kW", power_w=22_000, price_per_kwh=0.18)
    dc = ChargingFunction.piecewise(
        [(0.0, 0.0), (0.8 * battery, 0.8 * battery / 50_000 * HOUR),
         (battery, 0.8 * battery / 50_000 * HOUR + 0.2 * battery / 15_000 * HOUR)]
    )
    m.add_charger(14_000, 9_000, name="public-dc-north", function=dc, price_per_kwh=0.45)
    m.add_charger(-12_000, -11_000, name="public-dc-south", function=dc, price_per_kwh=0.45)
    return m


if __name__ == "__main__":
    from evfleet.io.problem_json import write_problem_json

    target = Path(__file__).resolve().parents[1] / "src/evfleet/examples/city-day.json"
    write_problem_json(build().data(), target)
    print(f"wrote {target}")
