"""A checked plan as ONE self-contained HTML page that opens offline and prints.

The page makes no network request: CSS and the little JavaScript it has are inline, the map
and the charts are inline SVG drawn here, there are no tiles, fonts or images to fetch.
It shows, top to bottom:

* a header with the verdict (feasible or the number of violations);
* KPI cards: total cost, distance, electricity (kWh), diesel (l), CO2e well-to-wheel, CO2e
  per parcel and the saving against the same day driven by diesel vans;
* the map: routes coloured per vehicle, stops as dots (numbered on small plans), charging
  stops as lightning bolts, depots as squares, a scale bar in km and hover titles, drawn in
  an equirectangular projection (longitude scaled by the cosine of the mid latitude);
* one state-of-charge chart per electric route: % of the battery over the time of day, with
  charging as green steps and the reserve line when given;
* tables: routes (km, kWh, litres, charging, cost by component, CO2e) with a totals row; the
  plan against the all-diesel day; each route's stops (collapsed on large plans);
* the checker's violations, if any.

Every string from the data is escaped with :func:`html.escape`. Units as shown: km, kWh, l,
kg CO2e, min, the account's currency; times of day ``HH:MM`` local time.
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Sequence

from evfleet.accounting import PlanAccount, comparison
from evfleet.checker import CheckReport
from evfleet.network.base import EARTH_RADIUS_M, LatLon
from evfleet.problem import Client, Problem
from evfleet.report._common import (
    Geometry,
    UsedRoute,
    charged_wh,
    clock_hm,
    colour,
    has_soc,
    is_geographic,
    position,
    route_line,
    soc_pct,
    unassigned_clients,
    used_routes,
    window_text,
)
from evfleet.solution import Solution

__all__ = ["html_report", "write_html_report"]

MAP_WIDTH_PX = 960
"""Width of the map's drawing in SVG pixels; its height follows the plan's extent."""
MAP_MIN_HEIGHT_PX = 320
MAP_MAX_HEIGHT_PX = 760
LABELLED_STOPS_MAX = 60
"""Up to this many visits, stop dots are numbered; beyond, they are small plain dots."""
OPEN_STOP_TABLES_MAX = 60
"""Up to this many visits, the stop tables start unfolded."""
MAX_VIOLATIONS_SHOWN = 50
CHARGER_COLOUR = "#ffc400"
DEPOT_COLOUR = "#222222"
M_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180.0
"""Metres per degree of latitude on the sphere of :data:`EARTH_RADIUS_M`."""


def esc(value: object) -> str:
    """``value`` as text, escaped for HTML content and attribute values."""
    return html.escape(str(value), quote=True)


def html_report(
    problem: Problem,
    solution: Solution,
    report: CheckReport,
    account: PlanAccount | None,
    *,
    diesel: PlanAccount | None = None,
    geometry: Geometry | None = None,
    title: str | None = None,
    reserve_soc: float | None = None,
) -> str:
    """The plan as one self-contained HTML document (text).

    ``report`` is :func:`evfleet.checker.check` of the plan; ``account`` its
    :func:`evfleet.accounting.account` (``None``: no cost, energy or CO2e figures);
    ``diesel`` its :func:`evfleet.accounting.diesel_counterfactual` (``None``: no
    comparison); ``geometry`` road polylines by route index in ``solution.routes``
    (missing: straight lines); ``reserve_soc`` the battery reserve to draw on the
    state-of-charge charts, as a fraction 0 to 1.
    """
    if reserve_soc is not None and not (math.isfinite(reserve_soc) and 0 <= reserve_soc <= 1):
        raise ValueError("reserve_soc must be None or a fraction from 0 to 1")
    routes = used_routes(problem, solution, report, account)
    heading = title if title is not None else f"Delivery plan: {problem.name}"
    stops = sum(len(u.route.visits) for u in routes)
    unassigned = unassigned_clients(problem, solution)
    if report.feasible:
        verdict = '<span class="badge ok">feasible</span>'
    else:
        verdict = f'<span class="badge bad">{len(report.violations)} violation(s)</span>'
    summary = f"{len(routes)} route(s) · {stops} stop(s)" + (
        f" · {len(unassigned)} unassigned" if unassigned else ""
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(heading)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{esc(heading)}</h1>",
        f'<p class="sub">{esc(summary)} {verdict}</p>',
        "</header>",
        _kpi_cards(report, routes, account, diesel),
        '<section class="map-section"><h2>Map</h2>',
        _map(problem, routes, geometry, unassigned),
        _legend(routes),
        "</section>",
        _soc_section(routes, reserve_soc),
        _routes_table(routes, account),
        _totals_table(report, routes, account, diesel),
        _stop_tables(problem, routes, stops),
        _violations(report),
        _footer(account),
        f"<script>{_JS}</script>",
        "</body>",
        "</html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def write_html_report(
    problem: Problem,
    solution: Solution,
    report: CheckReport,
    account: PlanAccount | None,
    path: str | os.PathLike[str],
    *,
    diesel: PlanAccount | None = None,
    geometry: Geometry | None = None,
    title: str | None = None,
    reserve_soc: float | None = None,
) -> None:
    """Writes :func:`html_report` to ``path`` (UTF-8)."""
    text = html_report(
        problem,
        solution,
        report,
        account,
        diesel=diesel,
        geometry=geometry,
        title=title,
        reserve_soc=reserve_soc,
    )
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


# ------------------------------------------------------------------------------ numbers


def _n(value: float | None, decimals: int = 1) -> str:
    """``value`` with thousands separators and ``decimals`` decimals; ``–`` for none."""
    if value is None or not math.isfinite(value):
        return "–"
    if round(value, decimals) == 0:
        value = 0.0  # no "-0.0"
    return f"{value:,.{decimals}f}"


def _duration(seconds: float) -> str:
    """A duration as ``H:MM``."""
    if not math.isfinite(seconds):
        return "–"
    minutes = round(seconds / 60.0)
    return f"{minutes // 60}:{minutes % 60:02d}"


# ------------------------------------------------------------------------------ KPI cards


def _card(label: str, value: str, sub: str = "", cls: str = "") -> str:
    extra = f" {cls}" if cls else ""
    return (
        f'<div class="card{extra}"><div class="label">{esc(label)}</div>'
        f'<div class="value">{esc(value)}</div>'
        + (f'<div class="subvalue">{esc(sub)}</div>' if sub else "")
        + "</div>"
    )


def _kpi_cards(
    report: CheckReport,
    routes: list[UsedRoute],
    acc: PlanAccount | None,
    diesel: PlanAccount | None,
) -> str:
    stops = sum(len(u.route.visits) for u in routes)
    cards: list[str] = []
    if acc is not None:
        cur = acc.currency
        cards.append(
            _card(
                "Total cost",
                f"{_n(acc.cost.total, 2)} {cur}",
                f"energy {_n(acc.cost.energy, 2)} · driver {_n(acc.cost.driver_time, 2)}",
            )
        )
    cards.append(
        _card(
            "Distance",
            f"{_n(report.distance_m / 1000.0)} km",
            f"{len(routes)} vehicle(s) · {stops} stop(s) · {_duration(report.duration_s)} h",
        )
    )
    if acc is not None:
        battery_kwh = (acc.energy_charged_wh + acc.energy_depot_wh) / 1000.0
        cards.append(
            _card(
                "Electricity",
                f"{_n(battery_kwh)} kWh",
                f"grid {_n(acc.grid_energy_wh / 1000.0)} kWh · {acc.charging_stops} charging "
                f"stop(s), {_n(acc.charging_min, 0)} min",
            )
        )
        cards.append(_card("Diesel", f"{_n(acc.diesel_l)} l", "burnt on diesel routes"))
        cards.append(
            _card(
                "CO₂e well-to-wheel",
                f"{_n(acc.co2e_wtw_kg)} kg",
                f"tank-to-wheel {_n(acc.co2e_ttw_kg)} kg",
            )
        )
        per_parcel = acc.co2e_wtw_per_parcel_kg
        cards.append(
            _card(
                "CO₂e per parcel",
                f"{_n(per_parcel * 1000.0, 0)} g" if per_parcel is not None else "–",
                f"{acc.parcels} parcel(s), well-to-wheel",
            )
        )
        if diesel is not None:
            saving = comparison(acc, diesel)
            kg = saving["co2e_wtw_kg"]
            pct = 100.0 * kg / diesel.co2e_wtw_kg if diesel.co2e_wtw_kg > 0 else None
            value = f"{_n(kg)} kg saved" if kg >= 0 else f"{_n(-kg)} kg more"
            share = f"{_n(abs(pct), 0)} % {'less' if kg >= 0 else 'more'} CO₂e · " if pct else ""
            cost_word = "saving" if saving["cost_total"] >= 0 else "extra"
            sub = f"{share}cost {cost_word} {_n(abs(saving['cost_total']), 2)} {acc.currency}"
            cards.append(_card("vs all-diesel", value, sub, "good" if kg >= 0 else "warn"))
    else:
        charging = sum(u.report.charging_s for u in routes)
        cards.append(_card("Charging", f"{_n(charging / 60.0, 0)} min", "at chargers en route"))
    return '<section class="kpis">' + "".join(cards) + "</section>"


# ------------------------------------------------------------------------------ the map


class _Projection:
    """Equirectangular: x = lon · cos(mid lat), y = −lat, scaled to fit the drawing."""

    def __init__(self, points: Sequence[LatLon], geographic: bool) -> None:
        lats = [p.lat for p in points]
        lons = [p.lon for p in points]
        self.lat_max = max(lats)
        self.lon_min = min(lons)
        mid = (max(lats) + min(lats)) / 2.0
        self.kx = max(math.cos(math.radians(mid)), 0.05) if geographic else 1.0
        self.m_per_unit = M_PER_DEGREE if geographic else 1.0
        span_x = (max(lons) - self.lon_min) * self.kx
        span_y = self.lat_max - min(lats)
        if span_x <= 0.0 and span_y <= 0.0:
            span_x = span_y = 0.01 if geographic else 100.0
        pad = 30.0
        self.width = float(MAP_WIDTH_PX)
        inner_w = self.width - 2 * pad
        aspect = span_y / span_x if span_x > 0 else 1.0
        height = min(max(inner_w * aspect + 2 * pad, MAP_MIN_HEIGHT_PX), MAP_MAX_HEIGHT_PX)
        self.height = float(round(height))
        inner_h = self.height - 2 * pad
        self.scale = min(
            inner_w / span_x if span_x > 0 else math.inf,
            inner_h / span_y if span_y > 0 else math.inf,
        )
        self.ox = pad + (inner_w - span_x * self.scale) / 2.0
        self.oy = pad + (inner_h - span_y * self.scale) / 2.0

    def xy(self, p: LatLon) -> tuple[float, float]:
        """SVG pixel coordinates of ``p``."""
        return (
            self.ox + (p.lon - self.lon_min) * self.kx * self.scale,
            self.oy + (self.lat_max - p.lat) * self.scale,
        )

    @property
    def px_per_m(self) -> float:
        return self.scale / self.m_per_unit


def _f(v: float) -> str:
    """A pixel coordinate with one decimal."""
    return f"{v:.1f}"


def _polyline_points(proj: _Projection, points: Sequence[LatLon]) -> str:
    """``x,y`` pairs, skipping points within 0.75 px of the last one kept (the last stays)."""
    kept: list[tuple[float, float]] = []
    for i, p in enumerate(points):
        x, y = proj.xy(p)
        if kept and i < len(points) - 1 and math.hypot(x - kept[-1][0], y - kept[-1][1]) < 0.75:
            continue
        kept.append((x, y))
    return " ".join(f"{_f(x)},{_f(y)}" for x, y in kept)


def _bolt(x: float, y: float, size: float) -> str:
    """A lightning-bolt polygon centred on (x, y), ``size`` px tall."""
    shape = ((0.15, -0.5), (-0.3, 0.08), (-0.02, 0.08), (-0.15, 0.5), (0.3, -0.1), (0.02, -0.1))
    return " ".join(f"{_f(x + dx * size)},{_f(y + dy * size)}" for dx, dy in shape)


def _nice(value: float) -> float:
    """The largest of 1, 2, 5 × 10^k not above ``value`` (> 0)."""
    exponent = math.floor(math.log10(value))
    base = 10.0**exponent
    for step in (5.0, 2.0, 1.0):
        if step * base <= value:
            return step * base
    return base


def _map(
    problem: Problem, routes: list[UsedRoute], geometry: Geometry | None, unassigned: list[int]
) -> str:
    geographic = is_geographic(problem)
    lines = {u.number: route_line(problem, u, geometry)[0] for u in routes}
    depots = [position(problem, d) for d in range(problem.num_depots)]
    loose = [position(problem, loc) for loc in unassigned]
    every = [p for line in lines.values() for p in line] + depots + loose
    proj = _Projection(every, geographic)
    total_stops = sum(len(u.route.visits) for u in routes)
    labelled = total_stops <= LABELLED_STOPS_MAX
    w, h = proj.width, proj.height
    out = [
        f'<svg class="map" viewBox="0 0 {w:.0f} {h:.0f}" role="img" '
        f'aria-label="Map of the routes">',
        f'<rect class="map-bg" x="0" y="0" width="{w:.0f}" height="{h:.0f}"/>',
    ]
    for u in routes:
        km = u.report.distance_m / 1000.0
        out.append(
            f'<g class="route" data-route="{u.number}">'
            f"<title>{esc(f'Route {u.number} · {u.vehicle.name} · {_n(km)} km')}</title>"
            f'<polyline class="route-line" stroke="{colour(u.number)}" '
            f'points="{_polyline_points(proj, lines[u.number])}"/></g>'
        )
    # Stops above every line, so that no route hides another's stops.
    for u in routes:
        out.append(f'<g class="stops" data-route="{u.number}">')
        for k, (visit, stop) in enumerate(zip(u.route.visits, u.stops, strict=True)):
            site = problem.location(visit.location)
            x, y = proj.xy(position(problem, visit.location))
            if isinstance(site, Client):
                window = window_text(site.tw_early_s, site.tw_late_s, sep="–")
                tip = (
                    f"Route {u.number}, stop {k + 1}: {site.name}\n"
                    f"arrival {clock_hm(stop.arrival_s)}"
                    + (f" · window {window}" if window else "")
                    + f" · {_n(site.demand_kg, 1)} kg"
                )
                radius = 7.0 if labelled else 3.5
                out.append(
                    f'<g class="stop"><title>{esc(tip)}</title>'
                    f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{radius}" fill="{colour(u.number)}"/>'
                    + (f'<text x="{_f(x)}" y="{_f(y + 3)}">{k + 1}</text>' if labelled else "")
                    + "</g>"
                )
            else:
                tip = (
                    f"Route {u.number}, stop {k + 1}: charging at {stop.location}\n"
                    f"{clock_hm(stop.start_s)}–{clock_hm(stop.departure_s)} · "
                    f"+{_n(charged_wh(stop) / 1000.0)} kWh · {_n(stop.charging_s / 60.0, 0)} min"
                )
                out.append(
                    f'<g class="charge"><title>{esc(tip)}</title>'
                    f'<polygon points="{_bolt(x, y, 22.0 if labelled else 16.0)}"/></g>'
                )
        out.append("</g>")
    for loc in unassigned:
        x, y = proj.xy(position(problem, loc))
        tip = f"{problem.location(loc).name}: not on any route"
        out.append(
            f'<g class="unassigned"><title>{esc(tip)}</title>'
            f'<circle cx="{_f(x)}" cy="{_f(y)}" r="5"/></g>'
        )
    for d, p in enumerate(depots):
        x, y = proj.xy(p)
        depot = problem.depots[d]
        out.append(
            f'<g class="depot"><title>{esc(f"Depot {depot.name}")}</title>'
            f'<rect x="{_f(x - 7)}" y="{_f(y - 7)}" width="14" height="14"/></g>'
        )
    out.append(_scale_bar(proj))
    out.append(
        f'<g class="north"><text x="{w - 22:.0f}" y="24">N</text>'
        f'<path d="M{w - 22:.0f} 28 l-5 12 l5 -3 l5 3 z"/></g>'
    )
    out.append("</svg>")
    return "\n".join(out)


def _scale_bar(proj: _Projection) -> str:
    metres = _nice((proj.width / 6.0) / proj.px_per_m)
    length = metres * proj.px_per_m
    label = f"{metres / 1000.0:g} km" if metres >= 1000.0 else f"{metres:g} m"
    x0, y0 = 16.0, proj.height - 14.0
    return (
        f'<g class="scale"><title>Scale bar</title>'
        f'<rect x="{_f(x0 - 4)}" y="{_f(y0 - 18)}" width="{_f(length + 8)}" height="24" '
        f'class="scale-bg"/>'
        f'<path d="M{_f(x0)} {_f(y0 - 5)} v5 h{_f(length)} v-5"/>'
        f'<text x="{_f(x0 + length / 2)}" y="{_f(y0 - 7)}">{esc(label)}</text></g>'
    )


def _legend(routes: list[UsedRoute]) -> str:
    items = []
    for u in routes:
        km = _n(u.report.distance_m / 1000.0)
        items.append(
            f'<li data-route="{u.number}"><span class="swatch" '
            f'style="background:{colour(u.number)}"></span>'
            f"Route {u.number} · {esc(u.vehicle.name)} · {len(u.route.visits)} stop(s) · "
            f"{km} km</li>"
        )
    symbols = (
        '<li class="sym"><span class="dot"></span>delivery</li>'
        '<li class="sym"><span class="bolt"></span>charging stop</li>'
        '<li class="sym"><span class="square"></span>depot</li>'
    )
    return f'<ul class="legend">{"".join(items)}{symbols}</ul>'


# ------------------------------------------------------------------------------ SoC charts


def _soc_section(routes: list[UsedRoute], reserve_soc: float | None) -> str:
    charts = [_soc_chart(u, reserve_soc) for u in routes if has_soc(u.vehicle)]
    if not charts:
        return ""
    note = (
        f" The dashed red line is the reserve of {_n(100.0 * reserve_soc, 0)} %."
        if reserve_soc is not None
        else ""
    )
    return (
        '<section class="soc"><h2>State of charge</h2>'
        f'<p class="note">Battery charge in % of the usable capacity over the day; '
        f"green steps are charging stops.{esc(note)}</p>" + "".join(charts) + "</section>"
    )


def _soc_points(u: UsedRoute) -> list[tuple[float, float]]:
    """(time s, SoC %) along the route: driving slopes, flat service, charging steps."""
    vt = u.vehicle
    start = soc_pct(vt.start_energy_wh, vt)
    points: list[tuple[float, float]] = []
    if start is not None:
        points.append((u.report.start_s, start))
    for stop in u.report.timeline:
        arrival = soc_pct(stop.energy_arrival_wh, vt)
        departure = soc_pct(stop.energy_departure_wh, vt)
        if arrival is None or departure is None:
            continue
        points.append((stop.arrival_s, arrival))
        if stop.start_s > stop.arrival_s:
            points.append((stop.start_s, arrival))
        if stop.departure_s > stop.start_s or departure != arrival:
            points.append((stop.departure_s, departure))
    return [(t, s) for t, s in points if math.isfinite(t) and math.isfinite(s)]


def _soc_chart(u: UsedRoute, reserve_soc: float | None) -> str:
    width, height = 1000.0, 230.0
    left, right, top, bottom = 48.0, 70.0, 14.0, 28.0
    points = _soc_points(u)
    times = [t for t, _ in points] or [0.0]
    t0 = math.floor(min(times) / 3600.0) * 3600.0
    t1 = math.ceil(max(times) / 3600.0) * 3600.0
    if t1 <= t0:
        t1 = t0 + 3600.0
    socs = [s for _, s in points]
    lo = min([0.0, *socs])
    hi = max([100.0, *socs])
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(t: float) -> float:
        return left + (t - t0) / (t1 - t0) * plot_w

    def y(s: float) -> float:
        return top + (hi - s) / (hi - lo) * plot_h

    hours = (t1 - t0) / 3600.0
    step = 1 if hours <= 12 else 2 if hours <= 24 else math.ceil(hours / 12)
    out = [
        f'<figure class="soc-figure"><svg class="soc-chart" data-route="{u.number}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        f'aria-label="{esc(f"State of charge of route {u.number}")}">'
    ]
    for pct in (0, 25, 50, 75, 100):
        out.append(
            f'<line class="grid" x1="{_f(left)}" x2="{_f(width - right)}" '
            f'y1="{_f(y(pct))}" y2="{_f(y(pct))}"/>'
            f'<text class="ylab" x="{_f(left - 6)}" y="{_f(y(pct) + 4)}">{pct} %</text>'
        )
    tick = t0
    while tick <= t1 + 1e-6:
        out.append(
            f'<line class="tick" x1="{_f(x(tick))}" x2="{_f(x(tick))}" '
            f'y1="{_f(top + plot_h)}" y2="{_f(top + plot_h + 4)}"/>'
            f'<text class="xlab" x="{_f(x(tick))}" y="{_f(height - 8)}">{clock_hm(tick)}</text>'
        )
        tick += step * 3600.0
    if reserve_soc is not None:
        ry = y(100.0 * reserve_soc)
        out.append(
            f'<line class="reserve" x1="{_f(left)}" x2="{_f(width - right)}" '
            f'y1="{_f(ry)}" y2="{_f(ry)}"><title>reserve {_n(100 * reserve_soc, 0)} %</title>'
            "</line>"
        )
    if points:
        coords = " ".join(f"{_f(x(t))},{_f(y(s))}" for t, s in points)
        base = _f(y(max(lo, 0.0)))
        area = f"{_f(x(points[0][0]))},{base} {coords} {_f(x(points[-1][0]))},{base}"
        out.append(f'<polygon class="soc-area" points="{area}"/>')
        out.append(f'<polyline class="soc-line" stroke="{colour(u.number)}" points="{coords}"/>')
    for stop in u.stops:
        charged = charged_wh(stop)
        if charged <= 0.0:
            continue
        before = soc_pct(stop.energy_arrival_wh, u.vehicle)
        after = soc_pct(stop.energy_departure_wh, u.vehicle)
        if before is None or after is None:
            continue
        tip = (
            f"{stop.location}: {clock_hm(stop.start_s)}–{clock_hm(stop.departure_s)}, "
            f"{_n(before, 0)} % → {_n(after, 0)} %, +{_n(charged / 1000.0)} kWh"
        )
        out.append(
            f'<g class="charge-step"><title>{esc(tip)}</title>'
            f'<line x1="{_f(x(stop.start_s))}" y1="{_f(y(before))}" '
            f'x2="{_f(x(stop.departure_s))}" y2="{_f(y(after))}"/>'
            f'<text x="{_f(x(stop.departure_s) + 4)}" y="{_f(max(y(after) + 12, top + 10))}">'
            f"+{_n(charged / 1000.0)} kWh</text></g>"
        )
    out.append("</svg>")
    socs_finite = [s for s in socs if math.isfinite(s)]
    low = min(socs_finite) if socs_finite else None
    n_charges = sum(1 for s in u.stops if charged_wh(s) > 0.0)
    caption = (
        f"Route {u.number} · {u.vehicle.name} · "
        f"{_n(socs[0] if socs else None, 0)} % at departure, lowest {_n(low, 0)} %, "
        f"{_n(socs[-1] if socs else None, 0)} % on return · {n_charges} charging stop(s)"
    )
    out.append(
        f'<figcaption><span class="swatch" style="background:{colour(u.number)}"></span>'
        f"{esc(caption)}</figcaption></figure>"
    )
    return "".join(out)


# ------------------------------------------------------------------------------ tables


def _routes_table(routes: list[UsedRoute], acc: PlanAccount | None) -> str:
    cur = f" ({acc.currency})" if acc is not None else ""
    head = [
        "Route",
        "Vehicle",
        "Stops",
        "Time",
        "km",
        "kWh",
        "l",
        "Charging",
    ]
    if acc is not None:
        head += ["Fixed", "Distance", "Driver", "Energy", "Carbon", f"Cost{cur}", "CO₂e kg"]
    rows = []
    for u in routes:
        rep, ra = u.report, u.account
        charges = [s for s in u.stops if charged_wh(s) > 0.0]
        cells = [
            f'<span class="swatch" style="background:{colour(u.number)}"></span>{u.number}',
            esc(u.vehicle.name),
            str(len(u.route.visits)),
            f"{clock_hm(rep.start_s)}–{clock_hm(rep.end_s)}",
            _n(rep.distance_m / 1000.0),
            _n((ra.energy_charged_wh + ra.energy_depot_wh) / 1000.0) if ra else "–",
            _n(ra.diesel_l) if ra else "–",
            f"{len(charges)} · {_n(sum(s.charging_s for s in charges) / 60.0, 0)} min"
            if u.vehicle.is_electric
            else "–",
        ]
        if acc is not None and ra is not None:
            c = ra.cost
            cells += [
                _n(c.fixed, 2),
                _n(c.distance, 2),
                _n(c.driver_time, 2),
                _n(c.energy, 2),
                _n(c.carbon, 2),
                f"<strong>{_n(c.total, 2)}</strong>",
                _n(ra.co2e_wtw_kg),
            ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    foot = ""
    if acc is not None:
        c = acc.cost
        cells = [
            "Total",
            f"{acc.vehicles} vehicle(s)",
            str(sum(len(u.route.visits) for u in routes)),
            f"{_duration(acc.duration_s)} h",
            _n(acc.distance_m / 1000.0),
            _n((acc.energy_charged_wh + acc.energy_depot_wh) / 1000.0),
            _n(acc.diesel_l),
            f"{acc.charging_stops} · {_n(acc.charging_min, 0)} min",
            _n(c.fixed, 2),
            _n(c.distance, 2),
            _n(c.driver_time, 2),
            _n(c.energy, 2),
            _n(c.carbon, 2),
            f"<strong>{_n(c.total, 2)}</strong>",
            _n(acc.co2e_wtw_kg),
        ]
        foot = "<tfoot><tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr></tfoot>"
    return (
        '<section><h2>Routes</h2><div class="scroll"><table class="routes num">'
        "<thead><tr>"
        + "".join(f"<th>{esc(h)}</th>" for h in head)
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody>"
        + foot
        + "</table></div>"
        + '<p class="note">Energy: electricity at chargers and at the depot plus diesel. '
        "kWh: battery energy used (charged en route plus recharged at the depot). "
        "CO₂e: well-to-wheel.</p></section>"
    )


def _totals_table(
    report: CheckReport,
    routes: list[UsedRoute],
    acc: PlanAccount | None,
    diesel: PlanAccount | None,
) -> str:
    if acc is None:
        rows = [
            ("Vehicles", str(report.vehicles)),
            ("Distance (km)", _n(report.distance_m / 1000.0)),
            ("Duration (h:mm)", _duration(report.duration_s)),
            ("Charging (min)", _n(report.charging_s / 60.0, 0)),
            ("Energy charged en route (kWh)", _n(report.energy_charged_wh / 1000.0)),
        ]
        body = "".join(f"<tr><th>{esc(a)}</th><td>{b}</td></tr>" for a, b in rows)
        return (
            '<section><h2>Totals</h2><table class="totals num"><tbody>'
            f"{body}</tbody></table></section>"
        )
    cur = acc.currency
    metrics: list[tuple[str, float | None, float | None, int]] = []

    def add(label: str, get: str, scale: float = 1.0, decimals: int = 1) -> None:
        a = float(getattr(acc, get)) * scale
        b = float(getattr(diesel, get)) * scale if diesel is not None else None
        metrics.append((label, a, b, decimals))

    add("Vehicles", "vehicles", decimals=0)
    add("Parcels", "parcels", decimals=0)
    add("Distance (km)", "distance_m", 1e-3)
    add("Duration (h)", "duration_s", 1 / 3600, 2)
    add("Battery energy charged en route (kWh)", "energy_charged_wh", 1e-3)
    add("Battery energy recharged at the depot (kWh)", "energy_depot_wh", 1e-3)
    add("Grid energy (kWh)", "grid_energy_wh", 1e-3)
    add("Diesel (l)", "diesel_l")
    for label, name in (
        ("fixed", "fixed"),
        ("distance", "distance"),
        ("driver time", "driver_time"),
        ("charger energy", "charger_energy"),
        ("depot energy", "depot_energy"),
        ("diesel", "diesel"),
        ("carbon", "carbon"),
    ):
        metrics.append(
            (
                f"Cost: {label} ({cur})",
                getattr(acc.cost, name),
                getattr(diesel.cost, name) if diesel is not None else None,
                2,
            )
        )
    metrics.append(
        (f"Cost: total ({cur})", acc.cost.total, diesel.cost.total if diesel else None, 2)
    )
    add("CO₂e tank-to-wheel (kg)", "co2e_ttw_kg")
    add("CO₂e well-to-wheel (kg)", "co2e_wtw_kg")
    per_a = acc.co2e_wtw_per_parcel_kg
    per_b = diesel.co2e_wtw_per_parcel_kg if diesel is not None else None
    metrics.append(
        (
            "CO₂e per parcel (g)",
            per_a * 1000 if per_a is not None else None,
            per_b * 1000 if per_b is not None else None,
            0,
        )
    )
    head = "<th></th><th>This plan</th>"
    if diesel is not None:
        head += "<th>All-diesel</th><th>Saving</th>"
    rows_html = []
    for label, a, b, decimals in metrics:
        cells = [_n(a, decimals)]
        if diesel is not None:
            saving = b - a if a is not None and b is not None else None
            cells += [_n(b, decimals), _n(saving, decimals)]
        cls = ' class="strong"' if label.startswith(("Cost: total", "CO₂e well")) else ""
        rows_html.append(
            f"<tr{cls}><th>{esc(label)}</th>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"
        )
    note = (
        '<p class="note">All-diesel: the same routes driven by diesel vans, charging stops '
        "left out (positive saving: this plan does better).</p>"
        if diesel is not None
        else ""
    )
    return (
        '<section><h2>Totals</h2><table class="totals num">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows_html)}</tbody></table>"
        f"{note}</section>"
    )


def _stop_tables(problem: Problem, routes: list[UsedRoute], total_stops: int) -> str:
    if not routes:
        return ""
    opened = " open" if total_stops <= OPEN_STOP_TABLES_MAX else ""
    blocks = []
    head = (
        "<tr><th>#</th><th>Stop</th><th>Arrival</th><th>Start</th><th>Departure</th>"
        "<th>Window</th><th>kg</th><th>Load kg</th><th>SoC in</th><th>SoC out</th>"
        "<th>Charged kWh</th></tr>"
    )
    for u in routes:
        vt = u.vehicle
        depot = problem.depots[vt.depot].name
        start = soc_pct(vt.start_energy_wh, vt)
        rows = [
            f'<tr class="depot-row"><td>0</td><td>{esc(depot)} (depot)</td><td></td><td></td>'
            f"<td>{clock_hm(u.report.start_s)}</td><td></td><td></td>"
            f"<td>{_n(u.report.load_kg)}</td><td></td><td>{_n(start, 0)}</td><td></td></tr>"
        ]
        for k, (visit, stop) in enumerate(zip(u.route.visits, u.stops, strict=True)):
            site = problem.location(visit.location)
            is_client = isinstance(site, Client)
            window = demand = ""
            if isinstance(site, Client):
                window = window_text(site.tw_early_s, site.tw_late_s, sep="–")
                demand = _n(site.demand_kg)
            what = esc(stop.location) + ("" if is_client else " (charging)")
            row_class = "" if is_client else ' class="charge-row"'
            rows.append(
                f"<tr{row_class}><td>{k + 1}</td><td>{what}</td>"
                f"<td>{clock_hm(stop.arrival_s)}</td><td>{clock_hm(stop.start_s)}</td>"
                f"<td>{clock_hm(stop.departure_s)}</td><td>{esc(window)}</td><td>{demand}</td>"
                f"<td>{_n(stop.load_kg)}</td>"
                f"<td>{_n(soc_pct(stop.energy_arrival_wh, vt), 0)}</td>"
                f"<td>{_n(soc_pct(stop.energy_departure_wh, vt), 0)}</td>"
                f"<td>{_n(charged_wh(stop) / 1000.0) if not is_client else ''}</td></tr>"
            )
        back = u.back
        rows.append(
            f'<tr class="depot-row"><td>{len(u.route.visits) + 1}</td>'
            f"<td>{esc(depot)} (depot)</td><td>{clock_hm(back.arrival_s)}</td>"
            "<td></td><td></td><td></td><td></td><td></td>"
            f"<td>{_n(soc_pct(back.energy_arrival_wh, vt), 0)}</td><td></td><td></td></tr>"
        )
        summary = (
            f"Route {u.number} · {u.vehicle.name} · {clock_hm(u.report.start_s)}–"
            f"{clock_hm(u.report.end_s)} · {len(u.route.visits)} stop(s)"
        )
        blocks.append(
            f'<details{opened}><summary><span class="swatch" '
            f'style="background:{colour(u.number)}"></span>{esc(summary)}</summary>'
            f'<div class="scroll"><table class="stops num"><thead>{head}</thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div></details>"
        )
    return '<section class="stop-tables"><h2>Stops</h2>' + "".join(blocks) + "</section>"


def _violations(report: CheckReport) -> str:
    if report.feasible:
        return ""
    items = "".join(f"<li>{esc(v.message)}</li>" for v in report.violations[:MAX_VIOLATIONS_SHOWN])
    more = len(report.violations) - MAX_VIOLATIONS_SHOWN
    extra = f"<li>… and {more} more</li>" if more > 0 else ""
    return (
        '<section class="violations"><h2>Violations</h2>'
        f"<p>The checker found {len(report.violations)} broken rule(s):</p>"
        f"<ul>{items}{extra}</ul></section>"
    )


def _footer(acc: PlanAccount | None) -> str:
    from evfleet import __version__

    basis = ""
    if acc is not None:
        basis = (
            f" Energy, cost and CO₂e by evfleet.accounting: grid {_n(acc.grid_g_per_kwh, 0)} "
            f"g CO₂e/kWh ({acc.country}), money in {acc.currency}, emissions allocated to "
            f"parcels by {acc.allocation} (ISO 14083); well-to-wheel includes fuel and "
            "electricity supply, tank-to-wheel the exhaust only."
        )
    return (
        f"<footer>Made by evfleet {esc(__version__)}. Times are planned, local time.{esc(basis)}"
        "</footer>"
    )


# ------------------------------------------------------------------------------ style


_CSS = """
:root{--ink:#1d2733;--muted:#5b6775;--line:#d8dee6;--bg:#ffffff;--panel:#f5f7fa;
--ok:#1a7f37;--bad:#c62828;--charge:#ffc400}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1100px;padding:24px;color:var(--ink);background:var(--bg);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:18px;margin:28px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}
.sub{margin:0;color:var(--muted)}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;
font-weight:600;color:#fff;margin-left:6px}
.badge.ok{background:var(--ok)}.badge.bad{background:var(--bad)}
.kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:10px;
margin-top:18px}
.card{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:10px 12px;
break-inside:avoid}
.card .label{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.03em}
.card .value{font-size:22px;font-weight:650;margin:2px 0;font-variant-numeric:tabular-nums}
.card .subvalue{font-size:12px;color:var(--muted)}
.card.good .value{color:var(--ok)}.card.warn .value{color:var(--bad)}
svg{display:block;width:100%;height:auto}
svg.map{border:1px solid var(--line);border-radius:8px}
.map-bg{fill:#f3f6f9}
.route-line{fill:none;stroke-width:3.5;stroke-linejoin:round;stroke-linecap:round;
stroke-opacity:.85}
.stop circle{stroke:#fff;stroke-width:1.5}
.stop text{font-size:8.5px;font-weight:700;fill:#fff;text-anchor:middle;pointer-events:none}
.charge polygon{fill:var(--charge);stroke:#222;stroke-width:1.2;stroke-linejoin:round}
.depot rect{fill:#222;stroke:#fff;stroke-width:2}
.unassigned circle{fill:#fff;stroke:var(--bad);stroke-width:2;stroke-dasharray:2 2}
.scale path{fill:none;stroke:#222;stroke-width:2}
.scale text,.north text{font-size:12px;text-anchor:middle;fill:#222}
.scale-bg{fill:#fff;fill-opacity:.8}
.north path{fill:#222}
svg.map.dim g.route:not(.hl),svg.map.dim g.stops:not(.hl){opacity:.15}
.legend{list-style:none;padding:0;margin:8px 0 0;display:flex;flex-wrap:wrap;gap:4px 18px;
font-size:13px}
.legend li{cursor:default}
.legend li.off{opacity:.35}
.swatch{display:inline-block;width:14px;height:4px;border-radius:2px;margin-right:6px;
vertical-align:middle}
.legend .dot,.legend .square,.legend .bolt{display:inline-block;width:11px;height:11px;
margin-right:6px;vertical-align:-1px}
.legend .dot{border-radius:50%;background:#777}
.legend .square{background:#222}
.legend .bolt{width:12px;height:16px;vertical-align:-4px;background:var(--charge);
clip-path:polygon(65% 0,20% 58%,48% 58%,35% 100%,80% 40%,52% 40%)}
.soc-figure{margin:0 0 14px;break-inside:avoid}
.soc-figure figcaption{font-size:13px;color:var(--muted)}
.soc-chart .grid{stroke:#e4e8ee}.soc-chart .tick{stroke:#888}
.soc-chart text{font-size:11px;fill:var(--muted)}
.soc-chart .ylab{text-anchor:end}.soc-chart .xlab{text-anchor:middle}
.soc-area{fill:#2ca02c;fill-opacity:.08;stroke:none}
.soc-line{fill:none;stroke-width:2.5;stroke-linejoin:round}
.charge-step line{stroke:var(--ok);stroke-width:5;stroke-linecap:round}
.charge-step text{fill:var(--ok);font-weight:600}
.reserve{stroke:var(--bad);stroke-width:1.5;stroke-dasharray:6 4}
.note{font-size:12px;color:var(--muted);margin:6px 0}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:12.5px}
th,td{padding:4px 6px;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap}
thead th{background:var(--panel);font-weight:600}
table.num td{text-align:right;font-variant-numeric:tabular-nums}
table.routes thead th,table.stops thead th{text-align:right}
table.routes :is(td,th):nth-child(-n+2),table.stops :is(td,th):nth-child(-n+2){text-align:left}
table.totals{width:auto;min-width:60%}
table.totals th{font-weight:500}
table.totals tr.strong{font-weight:700}
tfoot td{font-weight:700;border-top:2px solid var(--ink)}
tr.charge-row{background:#fff8dd}
tr.depot-row{color:var(--muted)}
details{margin:6px 0;break-inside:avoid}
summary{cursor:pointer;font-weight:600;padding:4px 0}
.violations li{color:var(--bad)}
footer{margin-top:32px;padding-top:8px;border-top:1px solid var(--line);font-size:12px;
color:var(--muted)}
@media print{body{max-width:none;padding:0;font-size:11px}
h2{break-after:avoid}.kpis{grid-template-columns:repeat(4,1fr)}
.card .value{font-size:17px}section{break-inside:auto}
svg.map{max-height:190mm;width:auto;max-width:100%;margin:0 auto}
.scroll{overflow:visible}details{display:block}summary{list-style:none}}
@page{size:A4;margin:12mm}
"""

_JS = """
(function(){
var map=document.querySelector('svg.map');if(!map)return;
var items=document.querySelectorAll('.legend li[data-route]');
function groups(n){return map.querySelectorAll('[data-route="'+n+'"]');}
items.forEach(function(li){var n=li.getAttribute('data-route');
li.addEventListener('mouseenter',function(){map.classList.add('dim');
groups(n).forEach(function(g){g.classList.add('hl');});});
li.addEventListener('mouseleave',function(){map.classList.remove('dim');
groups(n).forEach(function(g){g.classList.remove('hl');});});
li.addEventListener('click',function(){li.classList.toggle('off');
var off=li.classList.contains('off');
groups(n).forEach(function(g){g.style.display=off?'none':'';});});});
})();
"""
