"""Alerts from a route forecast: late risk, low energy (with a charger to add), off route.

Alerts are conditions, raised once and cleared when the condition goes away
(:class:`AlertBook`); each has a key ``(kind, subject)`` (``subject``: the stop id for a late
risk, ``""`` for route-wide alerts). Stop arrivals, departures and deliveries are events, not
alerts (:mod:`evfleet.tracking.tracker`).

* **late risk** (per stop): the predicted service start is after the window end minus
  ``late_margin_s``.
* **low energy**: the predicted SoC at a remaining stop or at the return to the depot, or
  the SoC now, is below ``reserve_pct``. The alert names the **best charger to add**: among
  the given chargers reachable with the energy on board (arriving with at least
  ``min_arrival_pct``), the one with the least added detour on the way to the next stop,
  ``d(van, charger) + d(charger, next) − d(van, next)``, with great-circle distances times
  the circuity factor and the route's Wh/m (times the observed energy ratio).
* **off route**: the van has left the planned line (:mod:`.route_progress`).

Units: s since the plan's midnight, m, Wh, %.
"""

from __future__ import annotations

import math
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from evfleet.network.base import LatLon
from evfleet.problem import Problem
from evfleet.tracking.geo import distance_m
from evfleet.tracking.plan import StopKind
from evfleet.tracking.route_progress import Forecast

__all__ = [
    "Alert",
    "AlertBook",
    "AlertKind",
    "AlertSettings",
    "ChargerOption",
    "ChargerSite",
    "best_charger",
    "charger_sites",
    "clock",
    "late_risk_alerts",
    "low_energy_alert",
    "off_route_alert",
]


class AlertKind(StrEnum):
    LATE_RISK = "late-risk"
    LOW_ENERGY = "low-energy"
    OFF_ROUTE = "off-route"


@dataclass(frozen=True)
class AlertSettings:
    """Alert thresholds: ``late_margin_s`` in s, SoC levels in %, ``max_detour_m`` in m.

    An alert that is up clears only when its condition is gone by a margin (hysteresis),
    so that a forecast hovering at a threshold does not raise and clear it over and over:
    a late risk once the predicted start is ``late_clear_s`` earlier than the raising
    threshold, low energy once every SoC is ``reserve_clear_pct`` above the reserve.
    """

    late_margin_s: float = 600.0
    reserve_pct: float = 10.0
    min_arrival_pct: float = 3.0
    max_detour_m: float = math.inf
    late_clear_s: float = 300.0
    reserve_clear_pct: float = 2.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.late_margin_s) and self.late_margin_s >= 0):
            raise ValueError("late_margin_s must be a finite number >= 0")
        if not 0 <= self.min_arrival_pct <= 100 or not 0 <= self.reserve_pct <= 100:
            raise ValueError("SoC levels must be in [0, 100] %")
        if not self.max_detour_m >= 0:
            raise ValueError("max_detour_m must be >= 0")
        if not (self.late_clear_s >= 0 and self.reserve_clear_pct >= 0):
            raise ValueError("late_clear_s and reserve_clear_pct must be >= 0")


@dataclass(frozen=True)
class ChargerSite:
    """A public or depot charger the van could add: id, position, power (kW) if known."""

    id: str
    position: LatLon
    power_kw: float | None = None


def charger_sites(problem: Problem) -> tuple[ChargerSite, ...]:
    """The problem's chargers as sites (``x`` = longitude, ``y`` = latitude)."""
    return tuple(ChargerSite(c.name, LatLon(float(c.y), float(c.x))) for c in problem.chargers)


@dataclass(frozen=True)
class ChargerOption:
    """A charger to add before ``next_stop``: its added detour and distance from the van (m,
    road estimates) and the predicted SoC on arrival there (%)."""

    charger: ChargerSite
    next_stop: str
    detour_m: float
    distance_m: float
    arrival_soc_pct: float | None


@dataclass(frozen=True)
class Alert:
    """One alert condition: ``kind``, ``subject`` (stop id or ``""``), a sentence for people,
    the time it was evaluated (s), numbers behind it and, for low energy, a charger."""

    kind: AlertKind
    subject: str
    message: str
    time_s: float
    details: Mapping[str, float | str | None] = field(default_factory=dict)
    charger: ChargerOption | None = None

    @property
    def key(self) -> tuple[AlertKind, str]:
        return (self.kind, self.subject)


def clock(seconds: float) -> str:
    """``HH:MM`` for seconds since midnight (``--:--`` if not finite)."""
    if not math.isfinite(seconds):
        return "--:--"
    total = round(seconds / 60.0)
    sign = "-" if total < 0 else ""
    hours, minutes = divmod(abs(total), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


# --------------------------------------------------------------------------- the rules


def late_risk_alerts(
    forecast: Forecast, settings: AlertSettings, active: Container[str] = ()
) -> list[Alert]:
    """A late-risk alert per remaining client whose predicted start is after its window end
    minus the margin; for a stop in ``active`` (alert up), the margin grows by
    ``late_clear_s``."""
    alerts = []
    for f in forecast.remaining:
        stop = f.stop
        if stop.kind is not StopKind.CLIENT or not math.isfinite(stop.tw_late_s):
            continue
        margin = settings.late_margin_s + (settings.late_clear_s if stop.id in active else 0.0)
        if f.start_s <= stop.tw_late_s - margin:
            continue
        late_by = f.start_s - stop.tw_late_s
        verdict = (
            f"{late_by / 60:.0f} min after the window closes"
            if late_by > 0
            else f"{-late_by / 60:.0f} min before the window closes"
        )
        alerts.append(
            Alert(
                AlertKind.LATE_RISK,
                stop.id,
                f"Stop {stop.sequence} ({stop.id}): service predicted at {clock(f.start_s)}, "
                f"{verdict} ({clock(stop.tw_late_s)}).",
                forecast.time_s,
                {
                    "predicted_start_s": f.start_s,
                    "window_end_s": stop.tw_late_s,
                    "late_by_s": late_by,
                    "planned_start_s": stop.start_s,
                },
            )
        )
    return alerts


def best_charger(
    position: LatLon,
    next_position: LatLon,
    next_stop: str,
    chargers: Iterable[ChargerSite],
    *,
    energy_wh: float | None,
    battery_wh: float | None,
    wh_per_m: float | None,
    circuity: float = 1.3,
    min_arrival_pct: float = 3.0,
    max_detour_m: float = math.inf,
) -> ChargerOption | None:
    """The charger with the least added detour between the van and its next stop among those
    reachable with ``energy_wh`` (arriving with ≥ ``min_arrival_pct`` of ``battery_wh``);
    ties go to the nearer one. Without energy data every charger counts as reachable.
    ``None`` when none qualifies."""
    direct = distance_m(position, next_position) * circuity
    best: tuple[float, float, ChargerOption] | None = None
    for site in chargers:
        to_charger = distance_m(position, site.position) * circuity
        onward = distance_m(site.position, next_position) * circuity
        detour = max(to_charger + onward - direct, 0.0)
        if detour > max_detour_m:
            continue
        arrival_pct: float | None = None
        if energy_wh is not None and wh_per_m is not None and battery_wh:
            arrival = energy_wh - to_charger * wh_per_m
            arrival_pct = 100.0 * arrival / battery_wh
            if arrival_pct < min_arrival_pct:
                continue
        option = ChargerOption(site, next_stop, detour, to_charger, arrival_pct)
        rank = (detour, to_charger)
        if best is None or rank < best[:2]:
            best = (detour, to_charger, option)
    return None if best is None else best[2]


def low_energy_alert(
    forecast: Forecast,
    settings: AlertSettings,
    *,
    position: LatLon,
    chargers: Sequence[ChargerSite],
    battery_wh: float | None,
    wh_per_m: float | None,
    circuity: float = 1.3,
    active: bool = False,
) -> Alert | None:
    """The low-energy alert when the SoC now or at any remaining stop or the return is
    predicted below the reserve, with the best charger to add (``None``: no alert). While
    the alert is ``active``, the bar is the reserve plus ``reserve_clear_pct``."""
    reserve = settings.reserve_pct
    bar = reserve + (settings.reserve_clear_pct if active else 0.0)
    below = [f for f in forecast.remaining if f.soc_pct is not None and f.soc_pct < bar]
    now = forecast.soc_now_pct
    if not below and (now is None or now >= bar):
        return None
    first = below[0] if below else None
    ret = forecast.return_forecast
    lowest = min(
        [f.soc_pct for f in forecast.remaining if f.soc_pct is not None]
        + ([now] if now is not None else [])
    )
    option = None
    nxt = forecast.next_stop
    if nxt is not None and chargers:
        option = best_charger(
            position,
            nxt.position,
            nxt.id,
            chargers,
            energy_wh=forecast.energy_now_wh,
            battery_wh=battery_wh,
            wh_per_m=None if wh_per_m is None else wh_per_m * forecast.energy_ratio,
            circuity=circuity,
            min_arrival_pct=settings.min_arrival_pct,
            max_detour_m=settings.max_detour_m,
        )
    if first is not None:
        where = (
            "at the return to the depot"
            if first.stop.kind is StopKind.DEPOT
            else f"at stop {first.stop.sequence} ({first.stop.id})"
        )
        shown = _down(first.soc_pct)
        relation = "below" if shown < reserve else "near"
        text = f"SoC predicted {shown:.1f} % {where}, {relation} the {reserve:g} % reserve"
    else:
        relation = "below" if _down(now) < reserve else "near"
        text = f"SoC now {_down(now):.1f} %, {relation} the {reserve:g} % reserve"
    if option is not None:
        text += (
            f"; add charger {option.charger.id} before {option.next_stop} "
            f"(+{option.detour_m / 1000:.1f} km)."
        )
    else:
        text += "; no charger within reach." if chargers else "."
    return Alert(
        AlertKind.LOW_ENERGY,
        "",
        text,
        forecast.time_s,
        {
            "first_stop": None if first is None else first.stop.id,
            "first_soc_pct": None if first is None else first.soc_pct,
            "return_soc_pct": None if ret is None else ret.soc_pct,
            "min_soc_pct": lowest,
            "soc_now_pct": now,
            "reserve_pct": reserve,
        },
        option,
    )


def _down(pct: float | None) -> float:
    """``pct`` rounded down to 0.1 (so 9.96 % reads 9.9 %, not 10.0 %, under a 10 % bar)."""
    return math.floor((pct or 0.0) * 10.0) / 10.0


def off_route_alert(forecast: Forecast) -> Alert | None:
    """The off-route alert while the van is off the planned line."""
    if not forecast.off_route:
        return None
    return Alert(
        AlertKind.OFF_ROUTE,
        "",
        f"Off the planned route ({forecast.line_distance_m:.0f} m from it).",
        forecast.time_s,
        {"distance_m": forecast.line_distance_m},
    )


class AlertBook:
    """The active alerts of one route: each key is raised once, cleared when it goes away."""

    def __init__(self) -> None:
        self._active: dict[tuple[AlertKind, str], Alert] = {}

    @property
    def active(self) -> tuple[Alert, ...]:
        """The alerts raised and not yet cleared (as first raised)."""
        return tuple(self._active.values())

    def update(self, current: Iterable[Alert]) -> tuple[list[Alert], list[Alert]]:
        """Takes the alerts whose condition holds now; returns ``(raised, cleared)``: the new
        keys (as given) and the keys no longer present (as they were raised)."""
        now = {a.key: a for a in current}
        raised = [a for k, a in now.items() if k not in self._active]
        cleared = [a for k, a in self._active.items() if k not in now]
        for a in cleared:
            del self._active[a.key]
        for a in raised:
            self._active[a.key] = a
        return raised, cleared
