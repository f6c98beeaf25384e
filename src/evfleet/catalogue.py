"""Catalogue of electric vans (and a diesel comparator) with sourced specifications.

The data live in ``evfleet/data/vehicles.json``. Every number there is an entry
``{value, unit, basis, source}``: ``basis`` says whether the value is sourced from
``shared/reference/emissions-energy-costs.md`` (with that file's confidence tag), derived
from sourced values (arithmetic shown), an assumption, a calibrated fit, a ``gap`` (value
``null``: not established, never invented) or not applicable. Units: Wh, W, m, kg, l, °C.

``energy_model`` entries of a vehicle override the file's ``class_defaults`` (3.5 t e-van
values of the reference's §2.2); together they give the :class:`~evfleet.energy.EnergyParameters`
of the van. Where a van's published WLTP figure could only be met by fitting, one parameter
(``drag_coefficient``) is fitted and marked ``"calibrated": true``.

>>> cat = Catalogue.load()
>>> vt = cat.to_vehicle_type("ford-e-transit", count=4, temperature_c=-2.0)
"""

from __future__ import annotations

import difflib
import importlib.resources
import json
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from numpy.typing import ArrayLike

from evfleet.charging import ChargingFunction, cc_cv_curve
from evfleet.energy import (
    WLTP_CITY_PHASES,
    WLTP_TEST_TEMPERATURE_C,
    EnergyParameters,
    cycle_consumption_wh_per_km,
    energy_model_hook,
    wltp_like_cycle,
    wltp_test_payload_kg,
)
from evfleet.problem import Powertrain, VehicleType

DATA_RESOURCE = "data/vehicles.json"
"""Path of the catalogue inside the ``evfleet`` package."""

BASES = frozenset({"sourced", "derived", "assumption", "calibrated", "gap", "not-applicable"})
"""Allowed ``basis`` values of a catalogue entry."""

NULL_BASES = frozenset({"gap", "not-applicable"})
"""Bases whose entries have no value."""

ENERGY_FIELDS = (
    "curb_mass_kg",
    "frontal_area_m2",
    "drag_coefficient",
    "rolling_resistance",
    "drivetrain_efficiency",
    "regen_efficiency",
    "auxiliary_power_w",
    "heating_w_per_k",
    "cooling_w_per_k",
    "heating_below_c",
    "cooling_above_c",
    "max_hvac_power_w",
    "driver_mass_kg",
    "rotational_inertia_factor",
    "air_density_kg_per_m3",
)
"""Fields of :class:`EnergyParameters` taken from the catalogue (a gap keeps the code default)."""

URBAN_PAYLOAD_FRACTION = 0.5
"""Default load for a load-independent consumption figure: half the capacity, the average
load of a delivery route that leaves full and returns empty (a modelling choice)."""


class CatalogueGapError(ValueError):
    """A value the request needs is a gap in the catalogue; pass it explicitly."""


@dataclass(frozen=True)
class Entry:
    """One catalogue number: ``value`` (``None`` for a gap) in ``unit``, with its provenance."""

    value: float | None
    unit: str
    basis: str
    source: str
    extra: Mapping[str, object] = field(default_factory=dict)

    @property
    def is_gap(self) -> bool:
        return self.basis == "gap"

    @property
    def calibrated(self) -> bool:
        return self.basis == "calibrated"

    @classmethod
    def parse(cls, data: object, where: str) -> Entry:
        """Validates one ``{value, unit, basis, source}`` object of the JSON file."""
        if not isinstance(data, dict):
            raise ValueError(f"{where}: an entry must be an object")
        value = data.get("value")
        unit, basis, source = data.get("unit"), data.get("basis"), data.get("source")
        if not isinstance(unit, str) or not isinstance(source, str) or not source.strip():
            raise ValueError(f"{where}: an entry needs a unit and a non-empty source")
        if basis not in BASES:
            raise ValueError(f"{where}: unknown basis {basis!r} (known: {sorted(BASES)})")
        assert isinstance(basis, str)
        if basis in NULL_BASES:
            if value is not None:
                raise ValueError(f"{where}: a {basis} entry has no value")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{where}: a {basis} entry needs a numeric value")
        elif not math.isfinite(value):
            raise ValueError(f"{where}: values must be finite")
        if basis == "gap" and "GAP" not in source:
            raise ValueError(f"{where}: a gap entry's source must say GAP")
        extra = {k: v for k, v in data.items() if k not in {"value", "unit", "basis", "source"}}
        return cls(
            value=None if value is None else float(value),
            unit=unit,
            basis=basis,
            source=source,
            extra=extra,
        )


def _entries(data: object, where: str) -> dict[str, Entry]:
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected an object")
    return {str(k): Entry.parse(v, f"{where}.{k}") for k, v in data.items()}


@dataclass(frozen=True)
class VehicleSpec:
    """One catalogue vehicle: specifications, energy-model overrides and class defaults."""

    id: str
    name: str
    maker: str
    powertrain: Powertrain
    calibrated: bool
    specs: Mapping[str, Entry]
    energy_overrides: Mapping[str, Entry]
    class_defaults: Mapping[str, Entry] = field(repr=False)

    def value(self, key: str) -> float | None:
        """The value of specification ``key`` (``None`` when a gap or absent)."""
        entry = self.specs.get(key)
        return None if entry is None else entry.value

    @property
    def is_electric(self) -> bool:
        return self.powertrain is Powertrain.ELECTRIC

    @property
    def usable_battery_wh(self) -> float | None:
        return self.value("usable_battery_wh")

    @property
    def wltp_range_m(self) -> float | None:
        return self.value("wltp_range_m")

    @property
    def wltp_consumption_wh_per_km(self) -> float | None:
        """Battery-side WLTP consumption (usable battery ÷ WLTP range), Wh/km."""
        return self.value("wltp_consumption_wh_per_km")

    @property
    def wltp_consumption_wh_per_m(self) -> float | None:
        return self.value("wltp_consumption_wh_per_m")

    @property
    def payload_kg(self) -> float | None:
        return self.value("payload_kg")

    @property
    def gross_vehicle_weight_kg(self) -> float | None:
        return self.value("gross_vehicle_weight_kg")

    @property
    def ac_max_power_w(self) -> float | None:
        return self.value("ac_max_power_w")

    @property
    def dc_max_power_w(self) -> float | None:
        return self.value("dc_max_power_w")

    @property
    def dc_sustained_power_w(self) -> float | None:
        """Average DC power implied by an OEM 10/15→80 % time, W (where quoted)."""
        return self.value("dc_sustained_power_w")

    @property
    def motor_power_w(self) -> float | None:
        return self.value("motor_power_w")

    @property
    def fuel_l_per_m(self) -> float | None:
        return self.value("fuel_l_per_m")

    @property
    def price(self) -> Entry | None:
        """Purchase price entry (``extra`` holds currency, tax basis, market, year)."""
        return self.specs.get("price")

    @property
    def planning_capacity_kg(self) -> float:
        """Payload to plan with, kg: the van's payload, else the class default (electric)."""
        if self.payload_kg is not None:
            return self.payload_kg
        default = self.class_defaults["max_payload_kg"].value
        if self.is_electric and default is not None:
            return default
        raise CatalogueGapError(f"{self.id}: payload is a gap in the catalogue")

    def energy_entry(self, key: str) -> Entry:
        """The energy-model entry ``key``: the vehicle's override, else the class default."""
        entry = self.energy_overrides.get(key)
        return entry if entry is not None else self.class_defaults[key]

    def energy_parameters(self) -> EnergyParameters:
        """The van's :class:`EnergyParameters` (class defaults with its overrides).

        A gap keeps the code default (no cooling, no HVAC cap). Regenerative braking is
        capped at the rated motor power where that is sourced.
        """
        if not self.is_electric:
            raise ValueError(f"{self.id} is not electric: it has no energy model")
        values: dict[str, Any] = {}
        for key in ENERGY_FIELDS:
            value = self.energy_entry(key).value
            if value is not None:
                values[key] = value
        motor = self.motor_power_w
        return EnergyParameters(
            **values, max_regen_power_w=motor if motor is not None else math.inf
        )

    @property
    def wltp_test_payload_kg(self) -> float:
        """Load of a WLTP test (25 kg + 28 % of the maximum payload), kg."""
        return wltp_test_payload_kg(self.planning_capacity_kg)

    def modelled_wltp_consumption_wh_per_km(self) -> float:
        """Battery-side consumption over the WLTP-like cycle at test load and 23 °C, Wh/km."""
        cycle = wltp_like_cycle()
        return cycle_consumption_wh_per_km(
            self.energy_parameters(),
            cycle.speeds_m_per_s,
            self.wltp_test_payload_kg,
            WLTP_TEST_TEMPERATURE_C,
        )

    def urban_consumption_wh_per_m(
        self, temperature_c: float, payload_kg: float | None = None
    ) -> float:
        """Battery energy per metre of typical urban driving, Wh/m.

        "Typical urban" is the WLTP city section (low and medium phases) of the WLTP-like
        cycle: 7.85 km at 27.7 km/h on average, with stops. ``payload_kg`` defaults to
        :data:`URBAN_PAYLOAD_FRACTION` of the planning capacity.
        """
        if payload_kg is None:
            payload_kg = URBAN_PAYLOAD_FRACTION * self.planning_capacity_kg
        city = wltp_like_cycle().section(WLTP_CITY_PHASES)
        per_km = cycle_consumption_wh_per_km(
            self.energy_parameters(), city, payload_kg, temperature_c
        )
        return per_km / 1000.0


class Catalogue:
    """The vehicle catalogue: look vehicles up and turn them into problem vehicle types."""

    def __init__(
        self,
        vehicles: Sequence[VehicleSpec],
        class_defaults: Mapping[str, Entry],
        calibration: Mapping[str, object] | None = None,
    ) -> None:
        self._vehicles = {v.id: v for v in vehicles}
        if len(self._vehicles) != len(vehicles):
            raise ValueError("vehicle ids must be unique")
        self.class_defaults = dict(class_defaults)
        self.calibration = dict(calibration or {})

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> Catalogue:
        """Reads the catalogue: the bundled ``vehicles.json``, or the file at ``path``."""
        if path is None:
            text = importlib.resources.files("evfleet").joinpath(DATA_RESOURCE).read_text("utf-8")
        else:
            text = Path(path).read_text("utf-8")
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, data: object) -> Catalogue:
        """Builds a catalogue from the parsed JSON document, validating every entry."""
        if not isinstance(data, dict) or data.get("format") != "evfleet-vehicle-catalogue":
            raise ValueError("not an evfleet vehicle catalogue")
        defaults = _entries(data.get("class_defaults"), "class_defaults")
        missing = [k for k in (*ENERGY_FIELDS, "max_payload_kg") if k not in defaults]
        if missing:
            raise ValueError(f"class_defaults lacks {missing}")
        raw_vehicles = data.get("vehicles")
        if not isinstance(raw_vehicles, list):
            raise ValueError("vehicles must be a list")
        vehicles = []
        for k, raw in enumerate(raw_vehicles):
            where = f"vehicles[{k}]"
            if not isinstance(raw, dict):
                raise ValueError(f"{where}: expected an object")
            vid, name, powertrain = raw.get("id"), raw.get("name"), raw.get("powertrain")
            if not isinstance(vid, str) or not vid or not isinstance(name, str):
                raise ValueError(f"{where}: needs a string id and name")
            if powertrain not in {p.value for p in Powertrain}:
                raise ValueError(f"{vid}: unknown powertrain {powertrain!r}")
            assert isinstance(powertrain, str)
            overrides = _entries(raw.get("energy_model", {}), f"{vid}.energy_model")
            unknown = set(overrides) - set(ENERGY_FIELDS)
            if unknown:
                raise ValueError(f"{vid}: unknown energy_model fields {sorted(unknown)}")
            vehicles.append(
                VehicleSpec(
                    id=vid,
                    name=name,
                    maker=str(raw.get("maker", "")),
                    powertrain=Powertrain(powertrain),
                    calibrated=bool(raw.get("calibrated", False)),
                    specs=_entries(raw.get("specs"), f"{vid}.specs"),
                    energy_overrides=overrides,
                    class_defaults=defaults,
                )
            )
        calibration = data.get("calibration")
        return cls(vehicles, defaults, calibration if isinstance(calibration, dict) else None)

    def __iter__(self) -> Iterator[VehicleSpec]:
        return iter(self._vehicles.values())

    def __len__(self) -> int:
        return len(self._vehicles)

    def __contains__(self, vehicle_id: object) -> bool:
        return vehicle_id in self._vehicles

    def ids(self) -> list[str]:
        """Vehicle ids in catalogue order."""
        return list(self._vehicles)

    def get(self, vehicle_id: str) -> VehicleSpec:
        """The vehicle ``vehicle_id``; ``KeyError`` (with close matches) when unknown."""
        try:
            return self._vehicles[vehicle_id]
        except KeyError:
            close = difflib.get_close_matches(vehicle_id, self._vehicles, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise KeyError(f"unknown vehicle {vehicle_id!r}{hint}") from None

    def electric(self) -> list[VehicleSpec]:
        """The electric vehicles, in catalogue order."""
        return [v for v in self._vehicles.values() if v.is_electric]

    def to_vehicle_type(
        self,
        vehicle_id: str,
        count: int | None = None,
        *,
        temperature_c: float = WLTP_TEST_TEMPERATURE_C,
        name: str | None = None,
        depot: int = 0,
        capacity_kg: float | None = None,
        payload_kg: float | None = None,
        initial_soc: float | None = None,
        fixed_cost: float = 0.0,
        cost_per_m: float = 0.0,
        cost_per_s: float = 0.0,
        shift_start_s: float = 0.0,
        shift_end_s: float = math.inf,
        max_duration_s: float = math.inf,
        distance_m: ArrayLike | None = None,
        duration_s: ArrayLike | None = None,
        stop_count: ArrayLike = 0,
    ) -> VehicleType:
        """A :class:`~evfleet.problem.VehicleType` for ``count`` vans of model ``vehicle_id``.

        Electric: ``battery_wh`` is the usable battery; ``energy_wh_per_m`` is the model's
        urban consumption (:meth:`VehicleSpec.urban_consumption_wh_per_m`) at
        ``temperature_c`` (default 23 °C, the WLTP test temperature: no HVAC load) carrying
        ``payload_kg`` (default half the capacity). With ``distance_m`` and ``duration_s``
        matrices (m, s) the type also gets a load-dependent ``energy_model`` hook
        (:func:`evfleet.energy.energy_model_hook`). Diesel: ``fuel_l_per_m`` and no battery.

        ``capacity_kg`` defaults to the catalogue payload (for an electric van whose payload
        is a gap, the class default); ``initial_soc`` (0..1) sets the starting energy.
        """
        spec = self.get(vehicle_id)
        capacity = spec.planning_capacity_kg if capacity_kg is None else capacity_kg
        base = VehicleType(
            name=name or spec.id,
            count=count,
            capacity_kg=capacity,
            depot=depot,
            fixed_cost=fixed_cost,
            cost_per_m=cost_per_m,
            cost_per_s=cost_per_s,
            shift_start_s=shift_start_s,
            shift_end_s=shift_end_s,
            max_duration_s=max_duration_s,
        )
        if not spec.is_electric:
            fuel = spec.fuel_l_per_m
            if fuel is None:
                raise CatalogueGapError(f"{vehicle_id}: fuel consumption is a gap")
            return replace(base, powertrain=Powertrain.DIESEL, fuel_l_per_m=fuel)
        battery = spec.usable_battery_wh
        if battery is None:
            raise CatalogueGapError(f"{vehicle_id}: usable battery is a gap")
        if payload_kg is None:
            if not math.isfinite(capacity):
                raise ValueError("give payload_kg when capacity_kg is infinite")
            payload_kg = URBAN_PAYLOAD_FRACTION * capacity
        if initial_soc is not None and not 0.0 <= initial_soc <= 1.0:
            raise ValueError("initial_soc must be a fraction from 0 to 1")
        if (distance_m is None) != (duration_s is None):
            raise ValueError("give both distance_m and duration_s matrices, or neither")
        hook = None
        if distance_m is not None and duration_s is not None:
            hook = energy_model_hook(
                spec.energy_parameters(), distance_m, duration_s, temperature_c, stop_count
            )
        return replace(
            base,
            powertrain=Powertrain.ELECTRIC,
            battery_wh=battery,
            initial_energy_wh=None if initial_soc is None else initial_soc * battery,
            energy_wh_per_m=spec.urban_consumption_wh_per_m(temperature_c, payload_kg),
            energy_model=hook,
        )

    def charging_curve(
        self,
        vehicle_id: str,
        charger_power_w: float,
        *,
        dc: bool,
        taper_start_fraction: float = 0.8,
    ) -> ChargingFunction:
        """A CC-CV :func:`~evfleet.charging.cc_cv_curve` for this van on a charger.

        The vehicle limit is its AC on-board charger power (``dc=False``), or on DC the
        sustained power implied by the OEM's 10/15→80 % time where quoted, else its DC peak.
        A gap in the limit means the charger's power alone sets the curve.
        """
        spec = self.get(vehicle_id)
        battery = spec.usable_battery_wh
        if battery is None:
            raise CatalogueGapError(f"{vehicle_id}: usable battery is a gap")
        limit = (spec.dc_sustained_power_w or spec.dc_max_power_w) if dc else spec.ac_max_power_w
        return cc_cv_curve(
            battery,
            charger_power_w,
            math.inf if limit is None else limit,
            taper_start_fraction=taper_start_fraction,
        )


@lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    """The bundled catalogue, loaded once."""
    return Catalogue.load()
