// The dispatcher dashboard: a hash-routed single page (#/map, #/plans, #/plans/<id>,
// #/orders, #/events, #/login) served at "/" by `evfleet serve`.

import "leaflet/dist/leaflet.css";
import "./style.css";

import { api, ApiError, getToken, optional, setToken, setUnauthorizedHandler } from "./api";
import { type Cleanup, type Context, DEFAULT_CONFIG, type Page } from "./context";
import { h, replace } from "./dom";
import { live } from "./live";
import { eventsPage, startAlertCounter } from "./pages/events";
import { loginPage } from "./pages/login";
import { mapPage } from "./pages/map";
import { ordersPage } from "./pages/orders";
import { planPage, plansPage } from "./pages/plans";
import type { Me, Organisation, UiConfig } from "./types";

const app = document.getElementById("app") as HTMLElement;
let ctx: Context | null = null;
let cleanup: Cleanup | null = null;
let renderSerial = 0;
let stopAlerts: Cleanup | null = null;

interface Nav {
  name: string;
  label: string;
  allowed: (c: Context) => boolean;
}

const NAV: Nav[] = [
  { name: "map", label: "Map", allowed: () => true },
  {
    name: "plans",
    label: "Plans",
    allowed: (c) => c.can("plans:read") || c.can("routes:own"),
  },
  { name: "orders", label: "Orders", allowed: (c) => c.can("orders:read") },
  {
    name: "events",
    label: "Events",
    allowed: (c) => c.can("plans:read") || c.can("routes:own"),
  },
];

function parseHash(): { page: string; parts: string[]; query: URLSearchParams } {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, search = ""] = raw.split("?", 2);
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { page: parts[0] ?? "", parts: parts.slice(1), query: new URLSearchParams(search) };
}

export function go(hash: string): void {
  if (location.hash === hash) void render();
  else location.hash = hash;
}

async function loadContext(): Promise<Context | null> {
  if (!getToken()) return null;
  let me: Me;
  try {
    me = await api<Me>("/auth/me");
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
  const permissions = new Set(me.permissions);
  const [config, organisation] = await Promise.all([
    optional<UiConfig>("/ui/config", { anonymous: true }).catch(() => null),
    permissions.has("org:read")
      ? optional<Organisation>("/organisations/current").catch(() => null)
      : Promise.resolve(null),
  ]);
  return {
    me,
    config: { ...DEFAULT_CONFIG, ...(config ?? {}) },
    currency: organisation?.currency ?? "EUR",
    can: (permission: string) => permissions.has(permission),
    driver: !permissions.has("plans:read") && permissions.has("routes:own"),
  };
}

function shell(c: Context, active: string): HTMLElement {
  const liveDot = h("span", { class: "live-dot", title: "live updates" });
  const unsubscribe = live.onState((state) => {
    liveDot.className = `live-dot live-${state}`;
    liveDot.title = `live updates: ${state === "open" ? "connected" : state}`;
  });
  const nav = h(
    "nav",
    { class: "nav" },
    NAV.filter((item) => item.allowed(c)).map((item) =>
      h(
        "a",
        {
          href: `#/${item.name}`,
          "data-testid": `nav-${item.name}`,
          class: item.name === active ? "active" : "",
          "aria-current": item.name === active ? "page" : null,
        },
        c.driver && item.name === "plans" ? "My route" : item.label,
        item.name === "events" ? h("span", { class: "badge hidden", id: "alert-count" }) : null,
      ),
    ),
  );
  const header = h(
    "header",
    { class: "topbar" },
    h("a", { class: "brand", href: "#/map" }, "evfleet"),
    nav,
    h(
      "div",
      { class: "who" },
      liveDot,
      h("span", { class: "who-label" }, c.me.label),
      h("span", { class: "role" }, c.me.role),
      h(
        "button",
        {
          type: "button",
          class: "link",
          "data-testid": "logout",
          onclick: () => void logout(),
        },
        "Log out",
      ),
    ),
  );
  header.addEventListener("evfleet:detach", () => unsubscribe());
  return header;
}

async function logout(): Promise<void> {
  try {
    if (getToken()) await api("/auth/logout", { method: "POST" });
  } catch {
    /* the token is dropped here whatever the service says */
  }
  setToken(null);
  ctx = null;
  live.stop();
  stopAlerts?.();
  stopAlerts = null;
  go("#/login");
}

const PAGES: Record<string, Page> = {
  map: mapPage,
  plans: (args) => (args.parts.length > 0 ? planPage(args) : plansPage(args)),
  orders: ordersPage,
  events: eventsPage,
};

async function render(): Promise<void> {
  const serial = ++renderSerial;
  const { page, parts, query } = parseHash();
  cleanup?.();
  cleanup = null;
  app.querySelector(".topbar")?.dispatchEvent(new Event("evfleet:detach"));

  if (page === "login" || !getToken()) {
    ctx = null;
    live.stop();
    replace(
      app,
      loginPage(async () => {
        ctx = null;
        go("#/map");
      }),
    );
    if (page !== "login") history.replaceState(null, "", "#/login");
    return;
  }
  if (!ctx) {
    replace(app, h("div", { class: "loading" }, "Loading…"));
    try {
      ctx = await loadContext();
    } catch (error) {
      replace(app, h("div", { class: "error-page" }, `The service cannot be reached: ${error}`));
      return;
    }
    if (serial !== renderSerial) return;
    if (!ctx) {
      go("#/login");
      return;
    }
    live.start();
    stopAlerts = startAlertCounter(ctx);
  }
  const c = ctx;
  const nav = NAV.find((item) => item.name === page);
  if (!nav || !nav.allowed(c)) {
    go("#/map");
    return;
  }
  const main = h("main", { class: `page page-${page}` });
  replace(app, shell(c, page), main);
  try {
    const result = await PAGES[page]({ root: main, ctx: c, parts, query });
    if (serial !== renderSerial) {
      if (result) result();
      return;
    }
    cleanup = result ?? null;
  } catch (error) {
    if (serial !== renderSerial) return;
    if (error instanceof ApiError && error.status === 401) return;
    replace(main, h("div", { class: "error-page" }, `This page failed to load: ${error}`));
  }
}

setUnauthorizedHandler(() => {
  ctx = null;
  live.stop();
  stopAlerts?.();
  stopAlerts = null;
  if (!location.hash.startsWith("#/login")) location.hash = "#/login";
});

window.addEventListener("hashchange", () => void render());
if (!location.hash) history.replaceState(null, "", getToken() ? "#/map" : "#/login");
void render();
