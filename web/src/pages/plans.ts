// #/plans (the plan list with the planning panel; drivers: their own routes) and
// #/plans/<id> (KPIs against the all-diesel day, dispatch, re-plan, and one row per route
// with its timeline and state-of-charge chart, kept up to date by the live stop pushes).

import { all, api, describe } from "../api";
import { LazyCharts, socPoints } from "../charts";
import type { Cleanup, Context, PageArgs } from "../context";
import { byId, drivers as loadDrivers, invalidate, vehicles as loadVehicles } from "../data";
import { h, replace } from "../dom";
import {
  CHARGING_COLOUR,
  dateTime,
  duration,
  hhmm,
  km,
  money,
  num,
  pct,
  routeColour,
  STOP_COLOURS,
  stopKey,
} from "../format";
import { live } from "../live";
import { planPanel } from "../planjob";
import type {
  Kpis,
  PlanDetail,
  PlanSummary,
  Problem,
  Route,
  Stop,
  StopUpdate,
  User,
  Vehicle,
} from "../types";

function costOf(kpis: Kpis | null | undefined): number | null {
  const cost = kpis?.cost;
  if (typeof cost === "number") return cost;
  if (cost && typeof cost === "object" && typeof (cost as Kpis).total === "number") {
    return (cost as Kpis).total as number;
  }
  return null;
}

function numberOf(kpis: Kpis | null | undefined, key: string): number | null {
  const value = kpis?.[key];
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** The all-diesel comparison, wherever the service puts it. */
function dieselOf(plan: PlanDetail): Kpis | null {
  const candidates = [
    plan.diesel_comparison,
    plan.kpis?.diesel_comparison,
    plan.kpis?.all_diesel,
    plan.kpis?.diesel,
  ];
  for (const candidate of candidates) {
    if (candidate && typeof candidate === "object") return candidate as Kpis;
  }
  return null;
}

// ----------------------------------------------------------------------------- KPIs

function card(label: string, value: string, note?: string | null): HTMLElement {
  return h(
    "div",
    { class: "kpi" },
    h("div", { class: "kpi-label" }, label),
    h("div", { class: "kpi-value" }, value),
    note ? h("div", { class: "kpi-note" }, note) : null,
  );
}

function vsDiesel(actual: number | null, diesel: number | null, unit: (v: number) => string) {
  if (actual === null || diesel === null) return null;
  const saving = diesel - actual;
  const share = diesel > 0 ? ` (${num((100 * saving) / diesel, 0)}%)` : "";
  return saving >= 0
    ? `${unit(saving)} less than all-diesel${share}`
    : `${unit(-saving)} more than all-diesel`;
}

function kpiBlock(plan: PlanDetail, currency: string): HTMLElement {
  const kpis = plan.kpis ?? {};
  const diesel = dieselOf(plan);
  const cost = costOf(kpis);
  const co2 = numberOf(kpis, "co2e_wtw_kg");
  const dieselCost = costOf(diesel);
  const dieselCo2 = numberOf(diesel, "co2e_wtw_kg");
  const kg = (v: number) => `${num(v, 1)} kg`;
  const block = h(
    "section",
    { class: "kpis", "data-testid": "plan-kpis" },
    card(
      "Cost",
      money(cost, currency),
      vsDiesel(cost, dieselCost, (v) => money(v, currency)),
    ),
    card("Distance", km(numberOf(kpis, "distance_m"))),
    card(
      "Energy",
      numberOf(kpis, "energy_kwh") !== null ? `${num(numberOf(kpis, "energy_kwh"), 1)} kWh` : "–",
      numberOf(kpis, "diesel_l") ? `and ${num(numberOf(kpis, "diesel_l"), 1)} l diesel` : null,
    ),
    card("CO2e (well-to-wheel)", co2 === null ? "–" : kg(co2), vsDiesel(co2, dieselCo2, kg)),
    card(
      "All-diesel day",
      diesel ? `${money(dieselCost, currency)} · ${dieselCo2 === null ? "–" : kg(dieselCo2)}` : "–",
      diesel ? "the same orders with diesel vans" : "not in this plan's figures",
    ),
    card("Vans", num(numberOf(kpis, "vehicles") ?? plan.route_count, 0)),
    card(
      "Stops",
      num(numberOf(kpis, "stops"), 0),
      kpis.parcels ? `${num(kpis.parcels, 0)} parcels` : null,
    ),
    card(
      "Charging stops",
      num(numberOf(kpis, "charging_stops"), 0),
      numberOf(kpis, "charging_min")
        ? `${num(numberOf(kpis, "charging_min"), 0)} min charging`
        : null,
    ),
  );
  return block;
}

// ----------------------------------------------------------------------------- routes

interface RowRefs {
  row: HTMLElement;
  vehicle: HTMLSelectElement | null;
  driver: HTMLSelectElement | null;
  timeline: Map<string, HTMLElement>;
  stops: Map<string, Stop>;
  table: HTMLTableSectionElement | null;
  progress: HTMLElement;
}

function statusOf(stop: Stop): string {
  return stop.status ?? "planned";
}

function timeline(route: Route, refs: Map<string, HTMLElement>): HTMLElement {
  const times = route.stops
    .flatMap((s) => [s.arrival_s, s.departure_s])
    .filter((t): t is number => typeof t === "number");
  const start = route.start_s ?? (times.length ? Math.min(...times) : 0);
  const end = Math.max(route.end_s ?? 0, ...times, start + 60);
  const span = end - start;
  const at = (t: number) => `${((100 * (t - start)) / span).toFixed(3)}%`;
  const bar = h("div", { class: "tl-bar" });
  const firstHour = Math.ceil(start / 3600) * 3600;
  for (let t = firstHour; t < end; t += 3600) {
    bar.appendChild(h("span", { class: "tl-hour", style: `left:${at(t)}` }, hhmm(t)));
  }
  for (const stop of route.stops) {
    if (stop.arrival_s === null) continue;
    const charging = stop.kind === "charging";
    const width =
      charging && stop.departure_s !== null
        ? `max(4px, ${((100 * (stop.departure_s - stop.arrival_s)) / span).toFixed(3)}%)`
        : "3px";
    const mark = h("span", {
      class: `tl-stop ${charging ? "tl-charging" : `tl-${statusOf(stop)}`}`,
      style: `left:${at(stop.arrival_s)};width:${width}`,
      title: `${hhmm(stop.arrival_s)} ${charging ? "charging at " : ""}${stop.location}${charging ? ` (${Math.round(stop.charging_s / 60)} min)` : ""}`,
    });
    refs.set(stopKey(route.id, stop.sequence), mark);
    bar.appendChild(mark);
  }
  return h(
    "div",
    {
      class: "timeline",
      "data-testid": "route-timeline",
      "aria-label": `Route ${route.index + 1} timeline`,
    },
    h("span", { class: "tl-edge" }, hhmm(start)),
    bar,
    h("span", { class: "tl-edge" }, hhmm(end)),
  );
}

function stopRow(stop: Stop): HTMLTableRowElement {
  const status = statusOf(stop);
  return h(
    "tr",
    { class: `stop-row status-${status}` },
    h("td", null, stop.sequence),
    h("td", null, stop.kind === "charging" ? `⚡ ${stop.location}` : stop.location),
    h("td", null, `${hhmm(stop.arrival_s)}–${hhmm(stop.departure_s)}`),
    h(
      "td",
      null,
      status === "planned" ? hhmm(stop.eta_s ?? null) : hhmm(stop.actual_arrival_s ?? null),
    ),
    h("td", null, h("span", { class: `status status-${status}` }, status)),
    h("td", null, pct(stop.soc_arrival_pct)),
    h(
      "td",
      null,
      stop.kind === "charging"
        ? `${num(stop.charged_wh / 1000, 1)} kWh`
        : stop.load_kg === null
          ? "–"
          : `${num(stop.load_kg, 0)} kg`,
    ),
  );
}

function routeRow(
  ctx: Context,
  route: Route,
  options: {
    editable: boolean;
    vehicles: Map<string, Vehicle>;
    drivers: Map<string, User>;
    charts: LazyCharts;
  },
): RowRefs {
  const colour = routeColour(route.index);
  const kpis = route.kpis ?? {};
  const deliveries = route.stops.filter((s) => s.kind === "delivery");
  const charging = route.stops.filter((s) => s.kind === "charging");
  let vehicle: HTMLSelectElement | null = null;
  let driver: HTMLSelectElement | null = null;
  let vehicleCell: HTMLElement | string;
  let driverCell: HTMLElement | string;
  if (options.editable && options.vehicles.size > 0) {
    vehicle = h(
      "select",
      { "aria-label": `Van for route ${route.index + 1}`, class: "route-vehicle" },
      [...options.vehicles.values()]
        .filter((v) => v.active)
        .map((v) => h("option", { value: v.id, selected: v.id === route.vehicle_id }, v.plate)),
    );
    if (!route.vehicle_id)
      vehicle.prepend(h("option", { value: "", selected: true }, "choose a van"));
    vehicleCell = vehicle;
  } else {
    const v = route.vehicle_id ? options.vehicles.get(route.vehicle_id) : undefined;
    vehicleCell = v ? v.plate : route.vehicle_id ? route.vehicle_id.slice(0, 8) : "no van";
  }
  if (options.editable && options.drivers.size > 0) {
    driver = h(
      "select",
      { "aria-label": `Driver for route ${route.index + 1}`, class: "route-driver" },
      h("option", { value: "" }, "not assigned"),
      [...options.drivers.values()]
        .filter((d) => d.active)
        .map((d) =>
          h("option", { value: d.id, selected: d.id === route.driver_id }, d.name || d.email),
        ),
    );
    driverCell = driver;
  } else {
    const d = route.driver_id ? options.drivers.get(route.driver_id) : undefined;
    driverCell = d ? d.name || d.email : route.driver_id ? "assigned" : "not assigned";
  }
  const refs = new Map<string, HTMLElement>();
  const canvas = h("canvas", {
    "data-testid": "route-chart",
    "aria-label": `Route ${route.index + 1} state of charge`,
    role: "img",
  });
  options.charts.add(canvas, route, colour);
  const progress = h("span", { class: "route-progress muted" });
  const stopsById = new Map(route.stops.map((s) => [stopKey(route.id, s.sequence), s]));
  const details = h(
    "details",
    { class: "route-stops" },
    h("summary", null, `Stops (${route.stops.length})`),
  );
  const result: RowRefs = {
    row: h("div"),
    vehicle,
    driver,
    timeline: refs,
    stops: stopsById,
    table: null,
    progress,
  };
  details.addEventListener("toggle", () => {
    if (!details.open || result.table) return;
    const body = h("tbody", null, [...stopsById.values()].map(stopRow));
    result.table = body;
    details.appendChild(
      h(
        "table",
        { class: "table compact" },
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            ["#", "Stop", "Planned", "ETA / arrived", "Status", "SoC", "Load"].map((t) =>
              h("th", null, t),
            ),
          ),
        ),
        body,
      ),
    );
  });
  result.row = h(
    "article",
    {
      class: "route-row",
      "data-testid": "route-row",
      "data-route-id": route.id,
      style: `--route:${colour}`,
    },
    h(
      "header",
      { class: "route-head" },
      h("span", { class: "route-swatch", style: `background:${colour}` }),
      h("strong", null, `Route ${route.index + 1}`),
      h("span", { class: "route-field" }, "Van ", vehicleCell),
      h("span", { class: "route-field" }, "Driver ", driverCell),
      h("span", { class: "route-field" }, `${hhmm(route.start_s)}–${hhmm(route.end_s)}`),
      h("span", { class: "route-field" }, km(kpis.distance_m)),
      h(
        "span",
        { class: "route-field" },
        typeof kpis.energy_kwh === "number" ? `${num(kpis.energy_kwh, 1)} kWh` : "",
      ),
      h("span", { class: "route-field" }, `${deliveries.length} stops`),
      charging.length
        ? h(
            "span",
            { class: "route-field charging-note", style: `--charging:${CHARGING_COLOUR}` },
            `${charging.length} charging`,
          )
        : null,
      h("span", { class: "route-field" }, money(costOf(kpis), ctx.currency)),
      progress,
    ),
    h(
      "div",
      { class: "route-body" },
      timeline(route, refs),
      h(
        "div",
        { class: "chart-box" },
        canvas,
        socPoints(route).length === 0
          ? h("span", { class: "chart-note muted" }, "no state of charge (diesel van)")
          : null,
      ),
    ),
    details,
  );
  updateProgress(result);
  return result;
}

function updateProgress(refs: RowRefs): void {
  const stops = [...refs.stops.values()].filter((s) => s.kind === "delivery");
  const done = stops.filter((s) => s.status === "delivered" || s.status === "departed").length;
  refs.progress.textContent = done > 0 ? `${done}/${stops.length} done` : "";
}

function applyStop(rows: Map<string, RowRefs>, update: StopUpdate): void {
  const refs = rows.get(update.route_id);
  if (!refs) return;
  const key = stopKey(update.route_id, update.sequence);
  const stop = refs.stops.get(key);
  if (!stop) return;
  const next: Stop = {
    ...stop,
    status: update.status,
    actual_arrival_s: update.actual_arrival_s,
    actual_departure_s: update.actual_departure_s,
    eta_s: update.eta_s,
  };
  refs.stops.set(key, next);
  const mark = refs.timeline.get(key);
  if (mark && next.kind === "delivery") mark.className = `tl-stop tl-${update.status}`;
  if (refs.table) replace(refs.table, [...refs.stops.values()].map(stopRow));
  updateProgress(refs);
}

function legend(): HTMLElement {
  return h(
    "div",
    { class: "legend inline" },
    Object.entries(STOP_COLOURS).map(([status, colour]) =>
      h("span", null, h("span", { class: "swatch", style: `background:${colour}` }), status),
    ),
    h(
      "span",
      null,
      h("span", { class: "swatch", style: `background:${CHARGING_COLOUR}` }),
      "charging",
    ),
  );
}

function routeList(
  ctx: Context,
  routes: Route[],
  options: { editable: boolean; vehicles: Map<string, Vehicle>; drivers: Map<string, User> },
): { element: HTMLElement; rows: Map<string, RowRefs>; dispose: Cleanup } {
  const charts = new LazyCharts();
  const rows = new Map<string, RowRefs>();
  const element = h("section", { class: "routes" });
  for (const route of [...routes].sort((a, b) => a.index - b.index)) {
    const refs = routeRow(ctx, route, { ...options, charts });
    rows.set(route.id, refs);
    element.appendChild(refs.row);
  }
  const unsubscribe = live.subscribe((message) => {
    if (message.type === "stop") applyStop(rows, message);
  });
  return {
    element,
    rows,
    dispose: () => {
      unsubscribe();
      charts.dispose();
    },
  };
}

// ----------------------------------------------------------------------------- pages

function planTable(plans: PlanSummary[], currency: string): HTMLElement {
  if (plans.length === 0) return h("p", { class: "muted" }, "No plans yet.");
  return h(
    "table",
    { class: "table plans-table" },
    h(
      "thead",
      null,
      h(
        "tr",
        null,
        ["Plan", "Status", "Created", "Vans", "Distance", "Energy", "Cost", "CO2e"].map((t) =>
          h("th", null, t),
        ),
      ),
    ),
    h(
      "tbody",
      null,
      plans.map((plan) =>
        h(
          "tr",
          { class: `plan-${plan.status}` },
          h("td", null, h("a", { href: `#/plans/${plan.id}` }, plan.name || plan.id.slice(0, 8))),
          h(
            "td",
            null,
            h("span", { class: `status status-${plan.status}` }, plan.status),
            plan.feasible ? null : h("span", { class: "status status-warning" }, "infeasible"),
          ),
          h("td", null, dateTime(plan.created_at)),
          h("td", null, plan.route_count),
          h("td", null, km(plan.kpis?.distance_m)),
          h(
            "td",
            null,
            typeof plan.kpis?.energy_kwh === "number" ? `${num(plan.kpis.energy_kwh, 1)} kWh` : "–",
          ),
          h("td", null, money(costOf(plan.kpis), currency)),
          h(
            "td",
            null,
            typeof plan.kpis?.co2e_wtw_kg === "number"
              ? `${num(plan.kpis.co2e_wtw_kg, 1)} kg`
              : "–",
          ),
        ),
      ),
    ),
  );
}

async function driverRoutes(root: HTMLElement, ctx: Context): Promise<Cleanup> {
  const routes = await all<Route>("/routes");
  const list = routeList(ctx, routes, { editable: false, vehicles: new Map(), drivers: new Map() });
  replace(
    root,
    h("h1", null, "My route"),
    routes.length === 0
      ? h("p", { class: "muted" }, "No dispatched route is assigned to you yet.")
      : h("p", null, h("a", { href: "#/map" }, "Show on the map")),
    legend(),
    list.element,
  );
  return list.dispose;
}

export async function plansPage({ root, ctx }: PageArgs): Promise<Cleanup | void> {
  if (ctx.driver) return driverRoutes(root, ctx);
  const listBox = h("div", null, h("p", { class: "muted" }, "Loading…"));
  const refresh = async () => {
    try {
      const page = await api<{ items: PlanSummary[] }>("/plans", { query: { limit: 100 } });
      replace(listBox, planTable(page.items, ctx.currency));
    } catch (error) {
      replace(
        listBox,
        h("p", { class: "error" }, `The plans could not be read: ${describe(error)}`),
      );
    }
  };
  const panel = ctx.can("plans:write")
    ? planPanel(ctx, { onFinished: () => void refresh() })
    : null;
  replace(
    root,
    h("h1", null, "Plans"),
    panel?.element ?? null,
    h("section", { class: "card" }, listBox),
  );
  await refresh();
  return () => panel?.dispose();
}

function problemText(error: unknown): HTMLElement {
  const problem = (error as { problem?: Problem | null }).problem;
  return h(
    "div",
    { class: "error", role: "alert" },
    h("p", null, describe(error)),
    problem?.errors?.length
      ? h(
          "ul",
          null,
          problem.errors.map((e) => h("li", null, `${e.loc.join(".")}: ${e.msg}`)),
        )
      : null,
  );
}

export async function planPage({ root, ctx, parts }: PageArgs): Promise<Cleanup> {
  const planId = parts[0];
  const [plan, vehicleList, driverList] = await Promise.all([
    api<PlanDetail>(`/plans/${encodeURIComponent(planId)}`),
    loadVehicles(ctx).catch(() => [] as Vehicle[]),
    loadDrivers(ctx).catch(() => [] as User[]),
  ]);
  const editable = plan.status === "draft" && ctx.can("plans:write");
  const list = routeList(ctx, plan.routes, {
    editable,
    vehicles: byId(vehicleList),
    drivers: byId(driverList),
  });
  const message = h("div", { class: "dispatch-result" });
  let panel: ReturnType<typeof planPanel> | null = null;
  const actions = h(
    "div",
    { class: "actions" },
    h("a", { href: `#/map?plan=${plan.id}`, class: "button secondary" }, "Show on the map"),
  );
  if (editable) {
    const dispatch = h(
      "button",
      { type: "button", class: "primary", "data-testid": "dispatch-button" },
      "Dispatch",
    );
    dispatch.addEventListener("click", async () => {
      dispatch.disabled = true;
      replace(message);
      const assignments = [...list.rows.entries()].map(([routeId, refs]) => ({
        route_id: routeId,
        vehicle_id: refs.vehicle?.value || null,
        driver_id: refs.driver?.value || null,
      }));
      try {
        await api(`/plans/${plan.id}/dispatch`, { json: { assignments } });
        invalidate();
        replace(message, h("p", { class: "ok", role: "status" }, "Dispatched."));
        window.dispatchEvent(new HashChangeEvent("hashchange"));
      } catch (error) {
        replace(message, problemText(error));
        dispatch.disabled = false;
      }
    });
    actions.prepend(dispatch);
    panel = planPanel(ctx, { replan: plan });
  }
  const problems =
    plan.violations.length || plan.unassigned.length
      ? h(
          "section",
          { class: "card warning" },
          plan.unassigned.length
            ? h(
                "p",
                null,
                `${plan.unassigned.length} orders could not be planned: ${plan.unassigned.slice(0, 20).join(", ")}${plan.unassigned.length > 20 ? " …" : ""}`,
              )
            : null,
          plan.violations.length
            ? h(
                "ul",
                null,
                plan.violations.slice(0, 20).map((v) => h("li", null, v)),
              )
            : null,
        )
      : null;
  replace(
    root,
    h(
      "div",
      { class: "plan-head" },
      h("h1", null, plan.name || `Plan ${plan.id.slice(0, 8)}`),
      h("span", { class: `status status-${plan.status}` }, plan.status),
      plan.feasible ? null : h("span", { class: "status status-warning" }, "infeasible"),
      h(
        "span",
        { class: "muted" },
        `created ${dateTime(plan.created_at)}${plan.dispatched_at ? `, dispatched ${dateTime(plan.dispatched_at)}` : ""}`,
      ),
    ),
    actions,
    message,
    kpiBlock(plan, ctx.currency),
    problems,
    panel?.element ?? null,
    h(
      "h2",
      null,
      `Routes (${plan.routes.length})`,
      " ",
      h(
        "span",
        { class: "muted small" },
        duration(numberOf(plan.kpis, "duration_s")),
        " driving and serving in all",
      ),
    ),
    legend(),
    list.element,
  );
  return () => {
    list.dispose();
    panel?.dispose();
  };
}
