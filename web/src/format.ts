// Formatting: plan times are seconds since the plan day's local midnight, shown as HH:MM.

export function hhmm(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  const total = Math.round(seconds / 60);
  const sign = total < 0 ? "-" : "";
  const abs = Math.abs(total);
  const hours = Math.floor(abs / 60);
  const minutes = abs % 60;
  return `${sign}${String(hours).padStart(2, "0")}:${String(minutes).padStart(2, "0")}`;
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

export function num(value: unknown, digits = 1): string {
  if (typeof value !== "number" || !Number.isFinite(value)) return "–";
  return value.toLocaleString("en-GB", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

export function km(metres: unknown): string {
  return typeof metres === "number" ? `${num(metres / 1000, 1)} km` : "–";
}

export function money(value: unknown, currency: string): string {
  if (typeof value !== "number" || !Number.isFinite(value)) return "–";
  try {
    return value.toLocaleString("en-GB", { style: "currency", currency });
  } catch {
    return `${num(value, 2)} ${currency}`;
  }
}

export function pct(value: unknown, digits = 0): string {
  return typeof value === "number" && Number.isFinite(value) ? `${num(value, digits)}%` : "–";
}

/** A wall-clock time from an ISO 8601 timestamp, in the browser's time zone. */
export function clockOf(iso: string | null | undefined, seconds = false): string {
  if (!iso) return "–";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "–";
  return date.toLocaleTimeString("en-GB", {
    hour: "2-digit",
    minute: "2-digit",
    second: seconds ? "2-digit" : undefined,
  });
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return "–";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "–";
  return date.toLocaleString("en-GB", {
    year: "numeric",
    month: "short",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
  });
}

export function shortId(id: string | null | undefined): string {
  return id ? id.slice(0, 8) : "–";
}

/** Route colours (as in the HTML report), one per route number; no yellow: charging is. */
export const PALETTE = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#9467bd",
  "#ff7f0e",
  "#17becf",
  "#8c564b",
  "#e377c2",
  "#393b79",
  "#637939",
  "#7f7f7f",
  "#843c39",
];

export function routeColour(index: number): string {
  return PALETTE[((index % PALETTE.length) + PALETTE.length) % PALETTE.length];
}

export const STOP_COLOURS: Record<string, string> = {
  planned: "#9aa5b1",
  arrived: "#f0a202",
  departed: "#74b816",
  delivered: "#2b8a3e",
};

export const CHARGING_COLOUR = "#ffd400";

/** How a stop is named in live pushes: its route and its sequence number on it. */
export function stopKey(routeId: string, sequence: number): string {
  return `${routeId}:${sequence}`;
}
