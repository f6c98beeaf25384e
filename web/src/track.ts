// The customer tracking page, /track/<token>: the order's status and its ETA window, and
// nothing else (no map, no driver, no other orders). Refreshes every minute until final.

import "./track.css";

import { hhmm } from "./format";
import type { TrackInfo } from "./types";

const REFRESH_MS = 60000;
const FINAL = new Set(["delivered", "returned"]);

const LABELS: Record<string, string> = {
  received: "Order received",
  planned: "Scheduled for delivery",
  dispatched: "Scheduled for delivery",
  out_for_delivery: "Out for delivery",
  delivered: "Delivered",
  failed: "Delivery attempt failed",
  returned: "Returned to sender",
};

const statusEl = document.querySelector<HTMLElement>('[data-testid="track-status"]');
const etaEl = document.querySelector<HTMLElement>('[data-testid="track-eta"]');
const updatedEl = document.getElementById("track-updated");

function tokenOf(): string | null {
  const match = /\/track\/([^/?#]+)/.exec(location.pathname);
  if (match) return decodeURIComponent(match[1]);
  return new URLSearchParams(location.search).get("token");
}

function dateText(date: string | null): string {
  if (!date) return "";
  const parsed = new Date(`${date}T12:00:00`);
  if (Number.isNaN(parsed.getTime())) return date;
  return parsed.toLocaleDateString("en-GB", { weekday: "long", day: "numeric", month: "long" });
}

function etaText(info: TrackInfo): string {
  const day = dateText(info.delivery_date);
  const on = day ? ` on ${day}` : "";
  if (info.delivered_at_s !== null && info.delivered_at_s !== undefined) {
    return `Delivered at ${hhmm(info.delivered_at_s)}${on}`;
  }
  if (info.status === "failed" || info.status === "returned") return "";
  if (info.eta_earliest_s !== null && info.eta_latest_s !== null) {
    return `Expected between ${hhmm(info.eta_earliest_s)} and ${hhmm(info.eta_latest_s)}${on}`;
  }
  return day
    ? `Delivery planned for ${day}; the time is not known yet`
    : "The delivery time is not known yet";
}

function show(status: string, eta: string, state: string): void {
  if (statusEl) {
    statusEl.textContent = status;
    statusEl.dataset.state = state;
  }
  if (etaEl) etaEl.textContent = eta;
}

async function refresh(token: string): Promise<boolean> {
  let response: Response;
  try {
    response = await fetch(`/api/v1/track/${encodeURIComponent(token)}`, {
      headers: { Accept: "application/json" },
      credentials: "omit",
      referrerPolicy: "no-referrer",
      cache: "no-store",
    });
  } catch {
    if (statusEl?.dataset.state === undefined)
      show("We cannot reach the tracking service right now.", "", "error");
    return true;
  }
  if (response.status === 404) {
    show("This tracking link is not known.", "Check the link in your message.", "unknown");
    return false;
  }
  if (!response.ok) {
    show("Tracking is not available right now.", "Please try again later.", "error");
    return true;
  }
  const info = (await response.json()) as TrackInfo;
  show(LABELS[info.status] ?? info.status, etaText(info), info.status);
  if (updatedEl) {
    const at = new Date(info.updated_at);
    updatedEl.textContent = Number.isNaN(at.getTime())
      ? ""
      : `Updated ${at.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" })}`;
  }
  return !FINAL.has(info.status);
}

async function main(): Promise<void> {
  const token = tokenOf();
  if (!token) {
    show("This tracking link is not complete.", "Check the link in your message.", "unknown");
    return;
  }
  const again = await refresh(token);
  if (!again) return;
  const timer = window.setInterval(async () => {
    if (!(await refresh(token))) window.clearInterval(timer);
  }, REFRESH_MS);
}

void main();
