// State-of-charge charts (Chart.js, only the parts used), drawn when they scroll into view
// so that a plan of 20 routes opens at once.

import {
  Chart,
  Filler,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";

import { CHARGING_COLOUR, hhmm } from "./format";
import type { Route } from "./types";

Chart.register(LineController, LineElement, PointElement, LinearScale, Tooltip, Filler);

interface Point {
  x: number;
  y: number;
  label: string;
  charging: boolean;
}

export function socPoints(route: Route): Point[] {
  const points: Point[] = [];
  for (const stop of route.stops) {
    const charging = stop.kind === "charging";
    if (stop.arrival_s !== null && stop.soc_arrival_pct !== null) {
      points.push({
        x: stop.arrival_s,
        y: stop.soc_arrival_pct,
        label: `${stop.location} (arrival)`,
        charging,
      });
    }
    if (
      stop.departure_s !== null &&
      stop.soc_departure_pct !== null &&
      (stop.departure_s !== stop.arrival_s || stop.soc_departure_pct !== stop.soc_arrival_pct)
    ) {
      points.push({
        x: stop.departure_s,
        y: stop.soc_departure_pct,
        label: `${stop.location} (departure)`,
        charging,
      });
    }
  }
  return points;
}

function draw(canvas: HTMLCanvasElement, route: Route, colour: string): Chart {
  const points = socPoints(route);
  const times = points.map((p) => p.x);
  const first = route.start_s ?? (times.length ? Math.min(...times) : 0);
  const start = Math.floor(first / 3600) * 3600;
  const end = Math.ceil(Math.max(route.end_s ?? 0, ...times, first + 3600) / 3600) * 3600;
  const hours = (end - start) / 3600;
  const step = hours <= 6 ? 3600 : hours <= 12 ? 7200 : 14400;
  return new Chart(canvas, {
    type: "line",
    data: {
      datasets: [
        {
          label: "State of charge",
          data: points,
          borderColor: colour,
          backgroundColor: `${colour}22`,
          fill: "origin",
          borderWidth: 2,
          tension: 0,
          pointRadius: points.map((p) => (p.charging ? 4 : 1.5)),
          pointBackgroundColor: points.map((p) => (p.charging ? CHARGING_COLOUR : colour)),
          pointBorderColor: points.map((p) => (p.charging ? "#5c4b00" : colour)),
        },
      ],
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      normalized: true,
      interaction: { mode: "nearest", intersect: false },
      scales: {
        x: {
          type: "linear",
          min: start,
          max: end,
          ticks: { callback: (value) => hhmm(Number(value)), stepSize: step },
        },
        y: {
          min: 0,
          max: 100,
          ticks: { callback: (value) => `${value}%`, stepSize: 25 },
        },
      },
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: {
            title: (items) => {
              const point = items[0]?.raw as Point | undefined;
              return point ? `${hhmm(point.x)} ${point.label}` : "";
            },
            label: (item) => `SoC ${Math.round((item.raw as Point).y)}%`,
          },
        },
      },
    },
  });
}

/** Draws each registered canvas once it is near the viewport; `dispose` frees them all. */
export class LazyCharts {
  private readonly charts: Chart[] = [];
  private readonly pending = new Map<Element, () => void>();
  private readonly observer: IntersectionObserver | null;

  constructor() {
    this.observer =
      typeof IntersectionObserver === "undefined"
        ? null
        : new IntersectionObserver(
            (entries) => {
              for (const entry of entries) {
                if (!entry.isIntersecting) continue;
                const job = this.pending.get(entry.target);
                this.pending.delete(entry.target);
                this.observer?.unobserve(entry.target);
                job?.();
              }
            },
            { rootMargin: "300px" },
          );
  }

  add(canvas: HTMLCanvasElement, route: Route, colour: string): void {
    const job = () => {
      if (canvas.isConnected) this.charts.push(draw(canvas, route, colour));
    };
    if (!this.observer) {
      job();
      return;
    }
    this.pending.set(canvas, job);
    this.observer.observe(canvas);
  }

  dispose(): void {
    this.observer?.disconnect();
    this.pending.clear();
    for (const chart of this.charts.splice(0)) chart.destroy();
  }
}
