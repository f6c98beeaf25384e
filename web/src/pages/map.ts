// #/map: depots, chargers, the routes of a plan (road geometry where the service has it,
// straight lines otherwise), stops coloured by status, charging stops and the live vans
// with their state of charge. Vector layers are SVG circle markers and polylines (a few
// hundred light paths, no HTML markers), so 300 stops and 20 vans draw at once; without a
// tile URL the map draws on a plain background with a scale bar.

import L from "leaflet";

import { all, api, ApiError, describe, optional } from "../api";
import type { Cleanup, Context, PageArgs } from "../context";
import { byId, chargers as loadChargers, depots as loadDepots } from "../data";
import { h, replace } from "../dom";
import { CHARGING_COLOUR, hhmm, km, num, pct, routeColour, STOP_COLOURS, stopKey } from "../format";
import { live } from "../live";
import type {
  Depot,
  EtaUpdate,
  Geometry,
  PlanDetail,
  PlanSummary,
  Route,
  Stop,
  StopStatus,
  StopUpdate,
  VehicleLive,
} from "../types";

const DEFAULT_CENTRE: L.LatLngExpression = [48.137, 11.575];
const POLL_MS = 10000;

function statusOf(stop: Stop): StopStatus {
  return stop.status ?? "planned";
}

function stopClass(stop: Stop): string {
  const status = statusOf(stop);
  return stop.kind === "charging" ? `stop-charging charging-${status}` : `stop stop-${status}`;
}

function stopStyle(stop: Stop, colour: string): L.CircleMarkerOptions {
  if (stop.kind === "charging") {
    return {
      radius: 7,
      color: "#5c4b00",
      weight: 2,
      fillColor: CHARGING_COLOUR,
      fillOpacity: 1,
    };
  }
  return {
    radius: 5,
    color: colour,
    weight: 2,
    fillColor: STOP_COLOURS[statusOf(stop)] ?? STOP_COLOURS.planned,
    fillOpacity: 0.95,
  };
}

function stopPopup(stop: Stop, route: Route): HTMLElement {
  const status = statusOf(stop);
  const rows: [string, string][] = [
    ["Route", `${route.index + 1}`],
    ["Stop", `${stop.sequence}`],
    ["Status", status],
    ["Planned", `${hhmm(stop.arrival_s)}–${hhmm(stop.departure_s)}`],
  ];
  if (stop.eta_s !== null && stop.eta_s !== undefined && status === "planned") {
    rows.push(["ETA", hhmm(stop.eta_s)]);
  }
  if (stop.actual_arrival_s !== null && stop.actual_arrival_s !== undefined) {
    rows.push(["Arrived", hhmm(stop.actual_arrival_s)]);
  }
  if (stop.actual_departure_s !== null && stop.actual_departure_s !== undefined) {
    rows.push(["Left", hhmm(stop.actual_departure_s)]);
  }
  rows.push(["SoC on arrival", pct(stop.soc_arrival_pct)]);
  if (stop.kind === "charging") {
    rows.push([
      "Charging",
      `${Math.round(stop.charging_s / 60)} min, ${num(stop.charged_wh / 1000, 1)} kWh`,
    ]);
  } else if (stop.load_kg !== null) {
    rows.push(["Load", `${num(stop.load_kg, 0)} kg`]);
  }
  return h(
    "div",
    { class: "popup" },
    h("strong", null, stop.kind === "charging" ? `Charging: ${stop.location}` : stop.location),
    h(
      "table",
      null,
      rows.map(([key, value]) => h("tr", null, h("th", null, key), h("td", null, value))),
    ),
  );
}

interface StopEntry {
  marker: L.CircleMarker;
  stop: Stop;
  route: Route;
}

interface VanEntry {
  marker: L.Marker;
  badge: HTMLElement;
  soc: HTMLElement;
  arrow: HTMLElement;
  vehicle: VehicleLive;
}

function socText(vehicle: VehicleLive): string {
  return vehicle.soc_pct === null || vehicle.soc_pct === undefined
    ? "–"
    : `${Math.round(vehicle.soc_pct)}%`;
}

function vanTitle(vehicle: VehicleLive): string {
  const parts = [vehicle.plate || vehicle.name || vehicle.vehicle_id];
  if (vehicle.soc_pct !== null) parts.push(`SoC ${socText(vehicle)}`);
  if (vehicle.range_m !== null && vehicle.range_m !== undefined)
    parts.push(`range ${km(vehicle.range_m)}`);
  if (vehicle.speed_m_per_s !== null && vehicle.speed_m_per_s !== undefined) {
    parts.push(`${Math.round(vehicle.speed_m_per_s * 3.6)} km/h`);
  }
  if (vehicle.charging) parts.push("charging");
  parts.push(`at ${new Date(vehicle.timestamp).toLocaleTimeString("en-GB")}`);
  return parts.join(" · ");
}

async function routesToShow(
  ctx: Context,
  planId: string | null,
): Promise<{ plan: PlanDetail | null; routes: Route[] }> {
  if (ctx.driver) {
    return { plan: null, routes: await all<Route>("/routes") };
  }
  if (!planId) return { plan: null, routes: [] };
  const plan = await api<PlanDetail>(`/plans/${encodeURIComponent(planId)}`);
  return { plan, routes: plan.routes };
}

function defaultPlan(plans: PlanSummary[]): string | null {
  const dispatched = plans.find((plan) => plan.status === "dispatched");
  const draft = plans.find((plan) => plan.status === "draft");
  return (dispatched ?? draft ?? null)?.id ?? null;
}

export async function mapPage({ root, ctx, query }: PageArgs): Promise<Cleanup> {
  const planSelect = h("select", { "aria-label": "Plan shown on the map", class: "plan-select" });
  const planInfo = h("div", { class: "plan-info muted" });
  const vanList = h("ul", { class: "van-list" });
  const vanCount = h("span", { class: "muted" });
  const notice = h("div", { class: "notice", role: "status" });
  notice.hidden = true;
  const legend = h(
    "ul",
    { class: "legend" },
    (["planned", "arrived", "departed", "delivered"] as StopStatus[]).map((status) =>
      h(
        "li",
        null,
        h("span", { class: "swatch", style: `background:${STOP_COLOURS[status]}` }),
        `stop ${status}`,
      ),
    ),
    h(
      "li",
      null,
      h("span", { class: "swatch", style: `background:${CHARGING_COLOUR}` }),
      "charging stop",
    ),
    h("li", null, h("span", { class: "swatch square", style: "background:#1b1f24" }), "depot"),
    h(
      "li",
      null,
      h("span", { class: "swatch", style: "background:#fff;border-color:#0b7285" }),
      "charger",
    ),
  );
  const sidebar = h(
    "aside",
    { class: "sidebar" },
    ctx.driver ? h("h2", null, "My route") : h("label", { class: "field" }, "Plan", planSelect),
    planInfo,
    notice,
    h("h3", null, "Vans ", vanCount),
    vanList,
    h("h3", null, "Legend"),
    legend,
  );
  const mapEl = h("div", { class: "map", "data-testid": "map" });
  replace(root, h("div", { class: "map-layout" }, sidebar, mapEl));

  const map = L.map(mapEl, { preferCanvas: false, zoomSnap: 0.5, minZoom: 2 });
  const renderer = L.svg({ padding: 0.3 });
  if (ctx.config.tile_url) {
    L.tileLayer(ctx.config.tile_url, {
      attribution: ctx.config.tile_attribution,
      maxZoom: ctx.config.tile_max_zoom || 19,
    }).addTo(map);
  } else {
    mapEl.classList.add("no-tiles");
    map.attributionControl.addAttribution("no map tiles configured");
  }
  L.control.scale({ imperial: false, maxWidth: 160 }).addTo(map);
  map.setView(DEFAULT_CENTRE, 11);

  const depotLayer = L.layerGroup().addTo(map);
  const chargerLayer = L.layerGroup().addTo(map);
  const routeLayer = L.layerGroup().addTo(map);
  const stopLayer = L.layerGroup().addTo(map);
  const vanLayer = L.layerGroup().addTo(map);
  L.control
    .layers(
      undefined,
      {
        Depots: depotLayer,
        Chargers: chargerLayer,
        Routes: routeLayer,
        Stops: stopLayer,
        Vans: vanLayer,
      },
      { collapsed: true, position: "topright" },
    )
    .addTo(map);

  const stops = new Map<string, StopEntry>();
  const stopIds = new Map<string, string>();
  const vans = new Map<string, VanEntry>();
  const routeIndex = new Map<string, number>();
  let disposed = false;
  let fitted = false;
  let listTimer: number | null = null;
  let liveMissing = false;
  const gone = () => disposed || !root.isConnected;

  function showNotice(text: string | null): void {
    notice.textContent = text ?? "";
    notice.hidden = !text;
  }

  function fitTo(points: L.LatLngExpression[]): void {
    if (points.length === 0) return;
    const bounds = L.latLngBounds(points);
    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [24, 24], maxZoom: 15, animate: false });
      fitted = true;
    }
  }

  const unsubscribe = live.subscribe((message) => {
    if (gone()) return;
    if (message.type === "snapshot") {
      // The full state: vans it does not list are no longer visible to this user.
      const listed = new Set((message.vehicles ?? []).map((v) => v.vehicle_id));
      for (const [id, entry] of vans) {
        if (listed.has(id)) continue;
        entry.marker.remove();
        vans.delete(id);
      }
      syncVans(message.vehicles ?? []);
    } else if (message.type === "vehicle") syncVans([message]);
    else if (message.type === "stop") updateStop(message);
    else if (message.type === "eta") updateEta(message);
  });
  const poller = window.setInterval(() => {
    if (live.state !== "open") void pollVans();
  }, POLL_MS);

  function dispose(): void {
    if (disposed) return;
    disposed = true;
    unsubscribe();
    window.clearInterval(poller);
    if (listTimer !== null) window.clearTimeout(listTimer);
    map.remove();
  }

  // --------------------------------------------------------------- depots and chargers
  const [depotList, chargerList] = await Promise.all([
    loadDepots(ctx).catch(() => [] as Depot[]),
    loadChargers(ctx).catch(() => []),
  ]);
  if (gone()) return dispose;
  const depotById = byId(depotList);
  for (const depot of depotList) {
    L.circleMarker([depot.latitude_deg, depot.longitude_deg], {
      renderer,
      className: "depot-marker",
      radius: 9,
      color: "#ffffff",
      weight: 3,
      fillColor: "#1b1f24",
      fillOpacity: 1,
    })
      .bindTooltip(`Depot ${depot.code}${depot.name ? ` – ${depot.name}` : ""}`)
      .addTo(depotLayer);
  }
  for (const charger of chargerList) {
    L.circleMarker([charger.latitude_deg, charger.longitude_deg], {
      renderer,
      className: "charger-marker",
      radius: 6,
      color: "#0b7285",
      weight: 3,
      fillColor: "#ffffff",
      fillOpacity: 1,
    })
      .bindTooltip(
        `Charger ${charger.code}: ${num(charger.power_w / 1000, 0)} kW × ${charger.connectors}`,
      )
      .addTo(chargerLayer);
  }

  // --------------------------------------------------------------- routes and stops
  function drawRoutes(routes: Route[], geometry: Geometry | null): L.LatLngExpression[] {
    routeLayer.clearLayers();
    stopLayer.clearLayers();
    stops.clear();
    stopIds.clear();
    routeIndex.clear();
    const points: L.LatLngExpression[] = [];
    const roads = new Map((geometry?.routes ?? []).map((g) => [g.route_id, g]));
    for (const route of routes) {
      routeIndex.set(route.id, route.index);
      const colour = routeColour(route.index);
      const located = route.stops.filter(
        (s) => s.latitude_deg !== null && s.longitude_deg !== null,
      );
      const road = roads.get(route.id);
      let line: L.LatLngExpression[];
      if (road && road.coordinates.length > 1) {
        line = road.coordinates.map(([lon, lat]) => [lat, lon] as L.LatLngTuple);
      } else {
        const depot = route.depot_id ? depotById.get(route.depot_id) : undefined;
        const home: L.LatLngTuple[] = depot ? [[depot.latitude_deg, depot.longitude_deg]] : [];
        line = [
          ...home,
          ...located.map((s) => [s.latitude_deg, s.longitude_deg] as L.LatLngTuple),
          ...home,
        ];
      }
      if (line.length > 1) {
        L.polyline(line, {
          renderer,
          className: "route-line",
          color: colour,
          weight: 3,
          opacity: 0.8,
          dashArray: road?.road ? undefined : "6 5",
          interactive: false,
        }).addTo(routeLayer);
      }
      for (const stop of located) {
        const latLng: L.LatLngTuple = [stop.latitude_deg as number, stop.longitude_deg as number];
        points.push(latLng);
        const marker = L.circleMarker(latLng, {
          renderer,
          className: stopClass(stop),
          ...stopStyle(stop, colour),
        });
        const entry: StopEntry = { marker, stop, route };
        marker.bindPopup(() => stopPopup(entry.stop, entry.route));
        marker.addTo(stopLayer);
        stops.set(stopKey(route.id, stop.sequence), entry);
        if (stop.id) stopIds.set(stop.id, stopKey(route.id, stop.sequence));
      }
    }
    return points;
  }

  function updateEta(update: EtaUpdate): void {
    for (const item of update.stops) {
      const key = stopIds.get(item.stop_id) ?? stopKey(update.route_id, item.sequence);
      const entry = stops.get(key);
      if (entry) entry.stop = { ...entry.stop, eta_s: item.eta_s };
    }
  }

  function updateStop(update: StopUpdate): void {
    const key = stopKey(update.route_id, update.sequence);
    const entry = stops.get(key);
    if (!entry) return;
    stopIds.set(update.stop_id, key);
    const before = stopClass(entry.stop);
    entry.stop = {
      ...entry.stop,
      status: update.status,
      actual_arrival_s: update.actual_arrival_s,
      actual_departure_s: update.actual_departure_s,
      eta_s: update.eta_s,
    };
    const after = stopClass(entry.stop);
    entry.marker.setStyle(stopStyle(entry.stop, routeColour(entry.route.index)));
    entry.marker.options.className = after;
    const element = entry.marker.getElement();
    if (element && before !== after) {
      for (const name of before.split(" ")) element.classList.remove(name);
      for (const name of after.split(" ")) element.classList.add(name);
    }
  }

  // --------------------------------------------------------------- live vans
  function vanColour(vehicle: VehicleLive): string {
    const index = vehicle.route_id ? routeIndex.get(vehicle.route_id) : undefined;
    return index === undefined ? "#343a40" : routeColour(index);
  }

  function styleVan(entry: VanEntry): void {
    const vehicle = entry.vehicle;
    entry.soc.textContent = socText(vehicle);
    const soc = vehicle.soc_pct;
    entry.badge.classList.toggle("low", soc !== null && soc !== undefined && soc < 20);
    entry.badge.classList.toggle("charging", Boolean(vehicle.charging));
    const age = Date.now() - new Date(vehicle.received_at ?? vehicle.timestamp).getTime();
    entry.badge.classList.toggle("stale", Number.isFinite(age) && age > 10 * 60 * 1000);
    entry.badge.style.borderColor = vanColour(vehicle);
    const heading = vehicle.heading_deg;
    entry.arrow.hidden = heading === null || heading === undefined;
    if (heading !== null && heading !== undefined) {
      entry.arrow.style.transform = `rotate(${heading}deg)`;
    }
    entry.badge.title = vanTitle(vehicle);
  }

  function updateVan(vehicle: VehicleLive): void {
    if (!Number.isFinite(vehicle.latitude_deg) || !Number.isFinite(vehicle.longitude_deg)) return;
    const at: L.LatLngTuple = [vehicle.latitude_deg, vehicle.longitude_deg];
    let entry = vans.get(vehicle.vehicle_id);
    if (!entry) {
      const arrow = h("span", { class: "van-arrow", "aria-hidden": "true" });
      const soc = h("span", { class: "van-soc" });
      const badge = h(
        "div",
        { class: "van-marker", "data-vehicle-id": vehicle.vehicle_id },
        arrow,
        soc,
      );
      const marker = L.marker(at, {
        icon: L.divIcon({
          className: "van-icon",
          html: badge,
          iconSize: [46, 22],
          iconAnchor: [23, 11],
        }),
        keyboard: false,
        zIndexOffset: 1000,
        riseOnHover: true,
      });
      entry = { marker, badge, soc, arrow, vehicle };
      marker.addTo(vanLayer);
      vans.set(vehicle.vehicle_id, entry);
    } else {
      entry.vehicle = vehicle;
      entry.marker.setLatLng(at);
    }
    styleVan(entry);
  }

  function renderVanList(): void {
    const items = [...vans.values()]
      .map((entry) => entry.vehicle)
      .sort((a, b) => (a.plate || a.name).localeCompare(b.plate || b.name));
    vanCount.textContent = `(${items.length} live)`;
    replace(
      vanList,
      items.length === 0
        ? h("li", { class: "muted" }, "No live positions yet.")
        : items.map((vehicle) =>
            h(
              "li",
              null,
              h(
                "button",
                {
                  type: "button",
                  class: "link",
                  onclick: () =>
                    map.setView(
                      [vehicle.latitude_deg, vehicle.longitude_deg],
                      Math.max(map.getZoom(), 14),
                    ),
                },
                vehicle.plate || vehicle.name || vehicle.vehicle_id.slice(0, 8),
              ),
              h(
                "span",
                { class: `soc-pill${(vehicle.soc_pct ?? 100) < 20 ? " low" : ""}` },
                socText(vehicle),
              ),
              vehicle.charging ? h("span", { class: "muted" }, " charging") : null,
            ),
          ),
    );
  }

  function scheduleVanList(): void {
    if (listTimer !== null) return;
    listTimer = window.setTimeout(() => {
      listTimer = null;
      if (!gone()) renderVanList();
    }, 500);
  }

  function syncVans(vehicles: Iterable<VehicleLive>): void {
    for (const vehicle of vehicles) updateVan(vehicle);
    scheduleVanList();
  }

  async function pollVans(): Promise<void> {
    if (liveMissing || gone()) return;
    try {
      const answer = await optional<{ items: VehicleLive[] }>("/live/vehicles");
      if (answer === null) {
        liveMissing = true;
        return;
      }
      live.seed(answer.items);
      if (!gone()) syncVans(answer.items);
    } catch (error) {
      if (error instanceof ApiError && error.status === 403) liveMissing = true;
    }
  }

  // --------------------------------------------------------------- the plan shown
  let loadSerial = 0;
  async function show(planId: string | null): Promise<void> {
    const serial = ++loadSerial;
    showNotice(null);
    let routes: Route[] = [];
    let plan: PlanDetail | null = null;
    try {
      ({ plan, routes } = await routesToShow(ctx, planId));
    } catch (error) {
      showNotice(`The routes could not be read: ${describe(error)}`);
    }
    if (gone() || serial !== loadSerial) return;
    const planIds = [...new Set(routes.map((route) => route.plan_id))];
    const geometries = await Promise.all(
      planIds.map((id) =>
        optional<Geometry>(`/plans/${encodeURIComponent(id)}/geometry`).catch(() => null),
      ),
    );
    if (gone() || serial !== loadSerial) return;
    const geometry: Geometry = { routes: geometries.flatMap((g) => g?.routes ?? []) };
    const points = drawRoutes(routes, geometry);
    for (const entry of vans.values()) styleVan(entry);
    const stopCount = routes.reduce(
      (n, r) => n + r.stops.filter((s) => s.kind === "delivery").length,
      0,
    );
    if (plan) {
      replace(
        planInfo,
        h(
          "div",
          null,
          `${plan.status}, ${routes.length} routes, ${stopCount} stops, ${km(plan.kpis.distance_m)}`,
        ),
        h("a", { href: `#/plans/${plan.id}` }, "Open the plan"),
      );
    } else if (ctx.driver) {
      replace(
        planInfo,
        routes.length === 0
          ? "No dispatched route is assigned to you."
          : `${routes.length} route(s), ${stopCount} stops`,
      );
    } else {
      replace(planInfo, "No plan yet: import orders and plan them.");
    }
    const extra: L.LatLngExpression[] = depotList.map(
      (d) => [d.latitude_deg, d.longitude_deg] as L.LatLngTuple,
    );
    if (points.length > 0) fitTo([...points, ...(ctx.driver ? [] : extra)]);
    else if (!fitted) {
      const vanPoints = [...vans.values()].map((v) => v.marker.getLatLng());
      fitTo([...extra, ...vanPoints]);
      if (!fitted)
        fitTo(chargerList.map((c) => [c.latitude_deg, c.longitude_deg] as L.LatLngTuple));
    }
  }

  if (!ctx.driver) {
    let plans: PlanSummary[] = [];
    try {
      plans = (
        await api<{ items: PlanSummary[] }>("/plans", { query: { limit: 50 } })
      ).items.filter((plan) => plan.status !== "discarded");
    } catch (error) {
      showNotice(`The plans could not be read: ${describe(error)}`);
    }
    if (gone()) return dispose;
    const wanted = query.get("plan");
    const chosen = wanted && plans.some((p) => p.id === wanted) ? wanted : defaultPlan(plans);
    replace(
      planSelect,
      plans.length === 0 ? h("option", { value: "" }, "no plans") : null,
      plans.map((plan) =>
        h(
          "option",
          { value: plan.id, selected: plan.id === chosen },
          `${plan.name || plan.id.slice(0, 8)} (${plan.status}, ${new Date(plan.created_at).toLocaleDateString("en-GB")})`,
        ),
      ),
    );
    planSelect.addEventListener("change", () => {
      history.replaceState(null, "", `#/map?plan=${encodeURIComponent(planSelect.value)}`);
      void show(planSelect.value || null);
    });
    await show(chosen);
  } else {
    await show(null);
  }
  if (gone()) return dispose;
  syncVans(live.vehicles.values());
  if (live.state !== "open") await pollVans();
  renderVanList();

  return dispose;
}
