// #/events: the live events feed (late risk, low energy, off route, arrivals, deliveries),
// newest first: the last events from GET /live/events, then every push of the socket.

import { ApiError, describe, optional } from "../api";
import type { Cleanup, Context, PageArgs } from "../context";
import { h, replace } from "../dom";
import { clockOf } from "../format";
import { live } from "../live";
import type { LiveEvent } from "../types";

const MAX_ITEMS = 300;

const KIND_LABELS: Record<string, string> = {
  "route-started": "route started",
  "stop-arrived": "arrived",
  "stop-departed": "left stop",
  "stop-delivered": "delivered",
  "route-completed": "route completed",
  "alert-raised": "alert",
  "alert-cleared": "alert cleared",
};

const ALERT_LABELS: Record<string, string> = {
  "late-risk": "late risk",
  "low-energy": "low energy",
  "off-route": "off route",
};

let unseenAlerts = 0;

function showAlertCount(): void {
  const badge = document.getElementById("alert-count");
  if (!badge) return;
  badge.textContent = unseenAlerts > 99 ? "99+" : String(unseenAlerts);
  badge.classList.toggle("hidden", unseenAlerts === 0);
}

/** Counts alerts raised while the feed is not shown, as a badge on the Events link. */
export function startAlertCounter(_ctx: Context): Cleanup {
  unseenAlerts = 0;
  return live.subscribe((message) => {
    if (message.type !== "event" || message.kind !== "alert-raised") return;
    if (location.hash.startsWith("#/events")) return;
    unseenAlerts += 1;
    showAlertCount();
  });
}

function alertKind(event: LiveEvent): string | null {
  const kind = event.data?.alert_kind;
  return typeof kind === "string" ? kind : null;
}

function eventItem(event: LiveEvent): HTMLLIElement {
  const alert = alertKind(event);
  const label =
    event.kind === "alert-raised" && alert
      ? (ALERT_LABELS[alert] ?? alert)
      : event.kind === "alert-cleared" && alert
        ? `${ALERT_LABELS[alert] ?? alert} cleared`
        : (KIND_LABELS[event.kind] ?? event.kind);
  return h(
    "li",
    {
      class: `event severity-${event.severity} kind-${event.kind}`,
      "data-testid": "event-item",
      "data-kind": event.kind,
      "data-alert-kind": alert,
      "data-event-id": event.id,
    },
    h("time", { datetime: event.at }, clockOf(event.at, true)),
    h("span", { class: `event-kind ${alert ? `alert-${alert}` : ""}` }, label),
    h("span", { class: "event-message" }, event.message),
    event.plan_id ? h("a", { href: `#/plans/${event.plan_id}`, class: "small" }, "plan") : null,
  );
}

type Filter = "all" | "alerts" | "stops";

function matches(event: LiveEvent, filter: Filter): boolean {
  if (filter === "alerts") return event.kind.startsWith("alert-");
  if (filter === "stops") return event.kind.startsWith("stop-");
  return true;
}

export async function eventsPage({ root }: PageArgs): Promise<Cleanup> {
  unseenAlerts = 0;
  showAlertCount();
  const feed = h("ul", {
    class: "events-feed",
    "data-testid": "events-feed",
    "aria-live": "polite",
  });
  const note = h("p", { class: "muted" });
  const filter = h(
    "select",
    { "aria-label": "Show" },
    h("option", { value: "all" }, "all events"),
    h("option", { value: "alerts" }, "alerts only"),
    h("option", { value: "stops" }, "stops and deliveries"),
  );
  const events: LiveEvent[] = [];
  const seen = new Set<string>();

  function redraw(): void {
    const chosen = filter.value as Filter;
    const shown = events.filter((e) => matches(e, chosen));
    replace(feed, shown.map(eventItem));
    note.textContent =
      shown.length === 0 ? "No events yet: they appear here as the vans drive." : "";
  }

  function add(event: LiveEvent, front: boolean): boolean {
    if (event.id && seen.has(event.id)) return false;
    if (event.id) seen.add(event.id);
    if (front) events.unshift(event);
    else events.push(event);
    if (events.length > MAX_ITEMS) events.length = MAX_ITEMS;
    return true;
  }

  filter.addEventListener("change", redraw);
  replace(
    root,
    h("div", { class: "row" }, h("h1", null, "Events"), filter),
    h("section", { class: "card" }, note, feed),
  );

  const unsubscribe = live.subscribe((message) => {
    if (message.type !== "event") return;
    const { type: _type, ...event } = message;
    if (!add(event, true) || !matches(event, filter.value as Filter)) return;
    feed.prepend(eventItem(event));
    note.textContent = "";
    while (feed.children.length > MAX_ITEMS) feed.lastElementChild?.remove();
  });

  try {
    const answer = await optional<{ items: LiveEvent[] }>("/live/events", {
      query: { limit: 100 },
    });
    if (answer === null) {
      note.textContent = "This service does not offer live events.";
    } else {
      for (const event of answer.items) add(event, false);
      events.sort((a, b) => b.at.localeCompare(a.at));
      redraw();
    }
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) {
      note.textContent = `The events could not be read: ${describe(error)}`;
    }
  }
  return unsubscribe;
}
