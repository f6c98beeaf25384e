"""Off-route detection, ETA and SoC forecasts, late-risk and low-energy alerts."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tracking_fixture import CHARGERS, DAY_START, TIGHT_LATE_S, Van, munich_plan, munich_problem

from evfleet.network.base import LatLon, haversine_point_m
from evfleet.problem import Problem
from evfleet.tracking import (
    AlertEvent,
    AlertKind,
    AlertSettings,
    ChargerSite,
    EtaEvent,
    Event,
    EventKind,
    Forecast,
    PlannedRoute,
    ProgressSettings,
    StopEvent,
    StopKind,
    Tracker,
    TrackerSettings,
    best_charger,
    charger_sites,
    planned_route,
)
from evfleet.tracking.alerts import late_risk_alerts, low_energy_alert


def run(
    route: PlannedRoute,
    van: Van,
    problem: Problem | None = None,
    settings: TrackerSettings | None = None,
) -> tuple[Tracker, list[Event]]:
    tracker = Tracker(
        route,
        problem,
        chargers=charger_sites(problem or munich_problem()),
        settings=settings,
        day_start=DAY_START,
    )
    return tracker, tracker.ingest_all(van.run())


def alerts(events: list[Event], kind: AlertKind) -> list[AlertEvent]:
    return [e for e in events if isinstance(e, AlertEvent) and e.alert.kind is kind]


def forecasts(events: list[Event]) -> list[Forecast]:
    return [e.forecast for e in events if isinstance(e, EtaEvent)]


# ------------------------------------------------------------------------------ nominal


@pytest.mark.parametrize("with_problem", [False, True])
def test_a_van_on_plan_raises_no_alert_and_etas_hold(
    route: PlannedRoute, problem: Problem, with_problem: bool
) -> None:
    van = Van(route, seed=5)
    tracker, events = run(route, van, problem if with_problem else None)
    assert not [e for e in events if isinstance(e, AlertEvent)]
    kinds = [e.kind for e in events]
    assert kinds.count(EventKind.STOP_ARRIVED) == len(route.stops)
    assert kinds[-1] is EventKind.ETA_UPDATED or EventKind.ROUTE_COMPLETED in kinds
    # The first forecast (at the depot, full battery, pace 1) is the plan itself.
    first = forecasts(events)[0]
    assert first.soc_source == "measured"
    for f in first.stops:
        assert f.arrival_s == pytest.approx(f.stop.arrival_s, abs=1e-6)
        assert f.energy_wh == pytest.approx(f.stop.energy_arrival_wh, rel=1e-9)
    # Every later forecast of the return is within 2 minutes of the truth.
    for fc in forecasts(events):
        ret = fc.return_forecast
        if ret is not None:
            assert abs(ret.arrival_s - van.truth.return_s) < 120
    rt = tracker.route_tracker("van-1")
    assert rt is not None and rt.forecast is not None
    assert rt.forecast.pace_ratio == pytest.approx(1.0, abs=0.05)
    assert rt.forecast.energy_ratio == pytest.approx(1.0, abs=0.05)


# -------------------------------------------------------------------------------- delay


def test_a_delay_shifts_etas_and_raises_late_risk_for_the_tight_window(
    route: PlannedRoute,
) -> None:
    van = Van(route, late_start_s=900.0, pace=1.3, seed=2)
    _, events = run(route, van)
    late = alerts(events, AlertKind.LATE_RISK)
    raised = [e for e in late if e.kind is EventKind.ALERT_RAISED]
    # Only ORD-3 has a tight window; the alert comes once, well before the van gets there.
    assert [e.alert.subject for e in raised] == ["ORD-3"]
    assert raised[0].time_s < van.truth.arrival_s["ORD-3"] - 600
    assert raised[0].alert.details["window_end_s"] == TIGHT_LATE_S
    assert "ORD-3" in raised[0].alert.message
    # ETAs moved: the last forecast before the van reaches ORD-3 says it is late by about
    # the 15 min start delay plus the slower driving, within 3 minutes of the truth.
    before = [
        f
        for f in forecasts(events)
        if f.time_s < van.truth.arrival_s["ORD-3"]
        and f.next_stop is not None
        and f.next_stop.id == "ORD-3"
    ][-1]
    ord3 = next(f for f in before.stops if f.stop.id == "ORD-3")
    assert ord3.delay_s > 900
    assert abs(ord3.arrival_s - van.truth.arrival_s["ORD-3"]) < 180
    assert before.pace_ratio > 1.05
    # The alert clears once the stop is reached (no longer a risk but a fact).
    cleared = [e for e in late if e.kind is EventKind.ALERT_CLEARED]
    assert [e.alert.subject for e in cleared] == ["ORD-3"]
    assert van.truth.arrival_s["ORD-3"] <= cleared[0].time_s


def test_etas_wait_for_time_windows(route: PlannedRoute) -> None:
    opens = route.stops[1].arrival_s + 1800.0  # ORD-2 opens 30 min after planned arrival
    stops = list(route.stops)
    stops[1] = replace(stops[1], tw_early_s=opens)
    shifted = replace(route, stops=tuple(stops))
    tracker = Tracker(shifted, day_start=DAY_START)
    events = tracker.ingest_all(Van(shifted, pre_trip_s=60.0).run()[:3])
    fc = forecasts(events)[-1]
    ord2 = next(f for f in fc.stops if f.stop.id == "ORD-2")
    ord3 = next(f for f in fc.stops if f.stop.id == "ORD-3")
    assert ord2.start_s == opens and ord2.departure_s == opens + ord2.stop.dwell_s
    assert ord3.arrival_s == pytest.approx(
        ord2.departure_s + (ord3.stop.arrival_s - stops[1].departure_s)
    )


# ----------------------------------------------------------------------------- off route


@pytest.mark.parametrize("fixes", [3, 5])
def test_a_detour_triggers_off_route_after_n_fixes_and_clears(
    route: PlannedRoute, fixes: int
) -> None:
    van = Van(route, detour=(2, 400.0, 0.2, 0.7), seed=4, dt_s=5.0)
    settings = TrackerSettings(progress=ProgressSettings(off_route_fixes=fixes, on_route_fixes=2))
    _, events = run(route, van, settings=settings)
    off = alerts(events, AlertKind.OFF_ROUTE)
    assert [e.kind for e in off] == [EventKind.ALERT_RAISED, EventKind.ALERT_CLEARED]
    detour = van.detour_times
    assert len(detour) > fixes + 2
    assert off[0].time_s == detour[fixes - 1]
    assert off[0].alert.details["distance_m"] > 300  # type: ignore[operator]
    back = [m for m in van.messages if (m.timestamp - DAY_START).total_seconds() > detour[-1]]
    assert off[1].time_s == (back[1].timestamp - DAY_START).total_seconds()


def test_a_short_excursion_is_not_off_route(route: PlannedRoute) -> None:
    van = Van(route, detour=(2, 400.0, 0.30, 0.36), seed=4, dt_s=10.0)
    _, events = run(route, van)
    assert 1 <= len(van.detour_times) < 3
    assert not alerts(events, AlertKind.OFF_ROUTE)


def test_road_geometry_is_the_reference_when_the_plan_has_one(route: PlannedRoute) -> None:
    # A geometry bent 500 m north between the depot and ORD-1: driving the straight leg is
    # now off the route.
    a, b = route.depot_position, route.stops[0].position
    bend = LatLon((a.lat + b.lat) / 2 + 0.0045, (a.lon + b.lon) / 2)
    rest = [s.position for s in route.stops] + [route.depot_position]
    bent = replace(route, geometry=(a, bend, *rest))
    _, events = run(bent, Van(bent, seed=4))
    assert alerts(events, AlertKind.OFF_ROUTE)
    _, events = run(route, Van(route, seed=4))
    assert not alerts(events, AlertKind.OFF_ROUTE)


# -------------------------------------------------------------------------------- energy


def low_route() -> tuple[Problem, PlannedRoute]:
    problem = munich_problem(initial_energy_wh=6000.0)  # 30 %: 13.8 % left at return
    _, doc = munich_plan(problem)
    return problem, planned_route(doc, 1)


@pytest.mark.parametrize("with_problem", [False, True])
def test_a_draining_battery_raises_low_energy_naming_a_sensible_charger(
    with_problem: bool,
) -> None:
    problem, route = low_route()
    _, nominal = run(route, Van(route, seed=8), problem if with_problem else None)
    assert not alerts(nominal, AlertKind.LOW_ENERGY)

    van = Van(route, drain=2.0, seed=8)
    _, events = run(route, van, problem if with_problem else None)
    low = alerts(events, AlertKind.LOW_ENERGY)
    raised = [e for e in low if e.kind is EventKind.ALERT_RAISED]
    assert len(raised) == 1  # raised once, not at every fix
    alert = raised[0].alert
    assert raised[0].time_s < van.truth.arrival_s["ORD-2"]  # early in the route
    assert alert.details["return_soc_pct"] is not None
    assert alert.details["return_soc_pct"] < 10.0  # type: ignore[operator]
    option = alert.charger
    assert option is not None and option.charger.id in alert.message
    # The suggestion is the least-detour charger on the way to the next stop (checked here
    # by brute force); the one behind the depot, to the west, is never it.
    assert option.charger.id != "CHG-WEST"
    state_at = next(
        m for m in van.messages if (m.timestamp - DAY_START).total_seconds() == raised[0].time_s
    )
    here = LatLon(state_at.latitude_deg, state_at.longitude_deg)
    nxt = route.stop(option.next_stop).position

    def detour(lon: float, lat: float) -> float:
        c = LatLon(lat, lon)
        return haversine_point_m(here, c) + haversine_point_m(c, nxt) - haversine_point_m(here, nxt)

    best = min(CHARGERS, key=lambda c: detour(c[1], c[2]))
    assert option.charger.id == best[0]
    assert option.detour_m == pytest.approx(1.3 * detour(best[1], best[2]), rel=1e-6)


def test_soc_forecast_uses_the_load_still_on_board() -> None:
    """With a load-dependent energy model, the forecast matches the checker's energies at
    the start and follows deliveries (lighter van, less energy per metre)."""
    base = munich_problem()

    def hook(i: int, j: int, d: float, load: float) -> float:
        return d * (0.2 + 0.002 * load)

    vt = replace(base.vehicle_types[0], energy_model=hook)
    problem = replace(base, vehicle_types=(vt,))
    _, doc = munich_plan(problem)
    route = planned_route(doc, 1)
    tracker = Tracker(route, problem, day_start=DAY_START)
    events = tracker.ingest_all(Van(route, seed=1).run())
    fcs = forecasts(events)
    for f in fcs[0].stops:
        assert f.energy_wh == pytest.approx(f.stop.energy_arrival_wh, rel=1e-9)
    loads = [fc.load_kg for fc in fcs]
    assert loads[0] == pytest.approx(route.start_load_kg)
    assert loads == sorted(loads, reverse=True) and loads[-1] == 0.0
    # Without the problem the plan's own energy drop is used: same first forecast.
    plain = Tracker(route, day_start=DAY_START)
    first = forecasts(plain.ingest_all(Van(route, seed=1).run()[:1]))[0]
    for a, b in zip(first.stops, fcs[0].stops, strict=True):
        assert a.energy_wh == pytest.approx(b.energy_wh, rel=1e-9)


@pytest.mark.parametrize("with_problem", [False, True])
def test_a_planned_charging_stop_refills_the_forecast(with_problem: bool) -> None:
    problem = munich_problem(initial_energy_wh=6000.0)
    _, doc = munich_plan(problem, charge_after=3)  # after ORD-3 (its window is tight)
    route = planned_route(doc, 1)
    charger = route.stops[3]
    assert charger.kind is StopKind.CHARGER and charger.energy_departure_wh == 20_000.0
    use = problem if with_problem else None

    van = Van(route, seed=3)
    _, events = run(route, van, use)
    first = forecasts(events)[0]
    for f in first.stops:  # on plan: the forecast is the plan, the charge included
        assert f.energy_wh == pytest.approx(f.stop.energy_arrival_wh, rel=1e-9)
        assert f.departure_s == pytest.approx(f.stop.departure_s, abs=1e-6)
    assert not alerts(events, AlertKind.LOW_ENERGY)

    # Draining twice as fast: the van reaches the charger with less than planned, so the
    # forecast charges longer (at the plan's average rate) but still leaves full.
    van = Van(route, seed=3, drain=2.0)
    _, events = run(route, van, use)
    fc = [f for f in forecasts(events) if f.next_stop is not None and f.next_stop.id == charger.id]
    at = next(f for f in fc[-1].stops if f.stop.id == charger.id)
    assert at.energy_wh is not None and at.energy_wh < charger.energy_arrival_wh  # type: ignore[operator]
    rate = charger.charged_wh / charger.dwell_s
    extra = (charger.energy_arrival_wh - at.energy_wh) / rate  # type: ignore[operator]
    assert at.departure_s - at.start_s == pytest.approx(charger.dwell_s + extra, rel=1e-9)
    after = next(f for f in fc[-1].stops if f.stop.id == "ORD-4")
    assert after.energy_wh is not None and after.energy_wh > 18_000


def test_best_charger_respects_reachability_and_detour_limit() -> None:
    here = LatLon(48.14, 11.56)
    nxt = LatLon(48.14, 11.62)
    on_way = ChargerSite("ON-WAY", LatLon(48.141, 11.60))
    far = ChargerSite("FAR", LatLon(48.20, 11.56))
    kwargs = {"battery_wh": 20_000.0, "wh_per_m": 0.25}
    pick = best_charger(here, nxt, "N", [far, on_way], energy_wh=5000.0, **kwargs)
    assert pick is not None and pick.charger.id == "ON-WAY" and pick.detour_m < 100
    assert pick.arrival_soc_pct == pytest.approx(
        100 * (5000 - 0.25 * 1.3 * haversine_point_m(here, on_way.position)) / 20_000
    )
    # With 3 % needed on arrival and 700 Wh on board, the 3.1 km trip (1 kWh) is too far.
    assert best_charger(here, nxt, "N", [on_way], energy_wh=700.0, **kwargs) is None
    assert (
        best_charger(here, nxt, "N", [far], energy_wh=5000.0, max_detour_m=1000, **kwargs) is None
    )
    # Without energy data, every charger counts as reachable.
    pick = best_charger(here, nxt, "N", [far], energy_wh=None, battery_wh=None, wh_per_m=None)
    assert pick is not None and pick.arrival_soc_pct is None


@pytest.mark.parametrize(("soc", "reachable"), [(9.5, True), (5.0, False)])
def test_soc_below_reserve_now_is_an_alert(
    route: PlannedRoute, soc: float, reachable: bool
) -> None:
    messages = Van(route, seed=1).run()[:40]
    low = [replace(m, soc_pct=soc) for m in messages]
    tracker = Tracker(route, chargers=charger_sites(munich_problem()), day_start=DAY_START)
    raised = alerts(tracker.ingest_all(low), AlertKind.LOW_ENERGY)
    assert len(raised) == 1 and raised[0].alert.details["soc_now_pct"] == soc
    # The nearest chargers are about 4.7 km of road away (1.2 kWh = 6 %), and the van must
    # arrive with 3 %: reachable from 9.5 %, not from 5 %.
    assert (raised[0].alert.charger is not None) is reachable
    if not reachable:
        assert "no charger within reach" in raised[0].alert.message


def test_stop_events_carry_plan_times(route: PlannedRoute) -> None:
    _, events = run(route, Van(route, seed=9))
    arrived = [e for e in events if isinstance(e, StopEvent) and e.kind is EventKind.STOP_ARRIVED]
    for e in arrived:
        stop = route.stop(e.stop_id)
        assert e.planned_s == stop.arrival_s and e.stop_kind is StopKind.CLIENT


def test_alerts_up_clear_only_past_a_margin(route: PlannedRoute) -> None:
    """Hysteresis: a forecast hovering at a threshold does not raise and clear an alert
    over and over (seen live: one alert flipped 19 times in two minutes)."""
    van = Van(route, late_start_s=900.0, pace=1.3, seed=2)
    tracker, events = run(route, van)
    forecast = forecasts(events)[0]
    settings = AlertSettings()
    ord3 = next(f for f in forecast.stops if f.stop.id == "ORD-3")
    bar = ord3.stop.tw_late_s - settings.late_margin_s

    def at(start_s: float) -> Forecast:
        moved = replace(ord3, start_s=start_s, arrived=False)
        stops = tuple(moved if f.stop.id == "ORD-3" else f for f in forecast.stops)
        return replace(forecast, stops=stops)

    def late(start_s: float, active: set[str]) -> list[str]:
        return [a.subject for a in late_risk_alerts(at(start_s), settings, active)]

    assert late(bar + 30, set()) == ["ORD-3"]
    assert late(bar - 30, set()) == []
    assert late(bar - 30, {"ORD-3"}) == ["ORD-3"]  # up: stays up just under the bar
    assert late(bar - settings.late_clear_s - 30, {"ORD-3"}) == []

    def low(soc_pct: float, active: bool) -> bool:
        shifted = tuple(replace(f, soc_pct=soc_pct) for f in forecast.stops)
        f = replace(forecast, stops=shifted, soc_now_pct=soc_pct + 20)
        alert = low_energy_alert(
            f,
            settings,
            position=LatLon(48.1, 11.5),
            chargers=(),
            battery_wh=None,
            wh_per_m=None,
            active=active,
        )
        return alert is not None

    reserve = settings.reserve_pct
    assert low(reserve - 0.1, active=False) and not low(reserve + 0.1, active=False)
    assert low(reserve + 0.1, active=True)
    assert not low(reserve + settings.reserve_clear_pct + 0.1, active=True)
    assert tracker.route_tracker("van-1") is not None
