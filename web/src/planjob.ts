// The planning panel: queue a planning job for the received orders (or re-plan a draft),
// follow its progress over server-sent events (read with fetch, with polling as the
// fallback), and link to the plan when it is done.

import { api, ApiError, describe, serverEvents } from "./api";
import type { Cleanup, Context } from "./context";
import { h, replace } from "./dom";
import { num } from "./format";
import type { Job, PlanDetail } from "./types";

const JOB_FIELDS = [
  "name",
  "delivery_date",
  "order_ids",
  "vehicle_ids",
  "time_limit_s",
  "seed",
  "shift_start_s",
  "shift_end_s",
  "start_soc",
  "outside_temperature_c",
];

export function randomKey(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = window.setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      window.clearTimeout(timer);
      resolve();
    });
  });
}

const FINAL = new Set(["succeeded", "failed", "cancelled"]);

export interface PlanPanelOptions {
  /** A draft to discard and plan again (its job's parameters are reused). */
  replan?: PlanDetail;
  /** Called with the finished job (e.g. to refresh a list). */
  onFinished?: (job: Job) => void;
}

export function planPanel(
  ctx: Context,
  options: PlanPanelOptions = {},
): { element: HTMLElement; dispose: Cleanup } {
  const controller = new AbortController();
  const timeLimit = h("input", {
    type: "number",
    min: 1,
    max: 3600,
    step: 1,
    value: 30,
    class: "narrow",
    "aria-label": "Time limit in seconds",
  });
  const date = h("input", { type: "date", "aria-label": "Delivery date (optional)" });
  const button = h(
    "button",
    { type: "button", class: "primary", "data-testid": "plan-button" },
    options.replan ? "Discard and re-plan" : "Plan received orders",
  );
  const cancel = h("button", { type: "button", class: "secondary" }, "Cancel job");
  cancel.hidden = true;
  const progress = h("progress", {
    max: 100,
    value: 0,
    "data-testid": "plan-progress",
    "aria-valuemin": 0,
    "aria-valuemax": 100,
    "aria-valuenow": 0,
    "aria-label": "Planning progress",
  });
  const status = h("span", { class: "job-status", "aria-live": "polite" });
  const progressRow = h("div", { class: "job-progress" }, progress, status, cancel);
  progressRow.hidden = true;
  const result = h("div", { class: "job-result" });
  let current: Job | null = null;

  const element = h(
    "section",
    { class: "card plan-panel" },
    h("h2", null, options.replan ? "Re-plan" : "Plan the day"),
    h(
      "div",
      { class: "row" },
      h("label", { class: "field" }, "Time limit (s)", timeLimit),
      options.replan ? null : h("label", { class: "field" }, "Delivery date", date),
      button,
    ),
    progressRow,
    result,
  );

  function show(job: Job): void {
    current = job;
    progressRow.hidden = false;
    const limit = Number(job.params?.time_limit_s) || Number(timeLimit.value) || 30;
    let value = Number(progress.value);
    if (job.status === "queued") value = 0;
    else if (job.status === "running") {
      value = Math.min(99, (100 * (job.progress?.elapsed_s ?? 0)) / limit);
    } else if (job.status === "succeeded") value = 100;
    progress.value = value;
    progress.setAttribute("aria-valuenow", String(Math.round(value)));
    progress.dataset.status = job.status;
    const p = job.progress;
    const parts: string[] = [job.status];
    if (p) {
      if (p.stage) parts.push(p.stage);
      parts.push(`${num(p.elapsed_s, 0)} s of ${num(limit, 0)} s`);
      if (p.iteration) parts.push(`iteration ${p.iteration}`);
      if (p.vehicles) parts.push(`${p.vehicles} vans`);
      if (p.objective !== null && p.objective !== undefined) {
        parts.push(`cost ${num(p.objective, 2)}`);
      }
      parts.push(p.feasible ? "feasible" : "not yet feasible");
    }
    status.textContent = parts.join(" · ");
    cancel.hidden = FINAL.has(job.status) || !ctx.can("plans:write");
    button.disabled = !FINAL.has(job.status);
  }

  function finished(job: Job): void {
    show(job);
    button.disabled = false;
    if (job.status === "succeeded" && job.plan_id) {
      replace(
        result,
        h(
          "a",
          { href: `#/plans/${job.plan_id}`, class: "done", "data-testid": "plan-done" },
          "The plan is ready: open it",
        ),
      );
    } else if (job.status === "failed") {
      replace(
        result,
        h(
          "p",
          { class: "error", role: "alert" },
          `Planning failed: ${job.error ?? "unknown error"}`,
        ),
      );
    } else {
      replace(result, h("p", { class: "muted" }, `The job was ${job.status}.`));
    }
    options.onFinished?.(job);
  }

  async function follow(job: Job): Promise<void> {
    show(job);
    const signal = controller.signal;
    while (!FINAL.has(job.status) && !signal.aborted) {
      let received = false;
      try {
        for await (const event of serverEvents(`/plans/jobs/${job.id}/events`, { signal })) {
          if (event.event !== "job" && event.event !== "end") continue;
          job = JSON.parse(event.data) as Job;
          received = true;
          show(job);
          if (event.event === "end") break;
        }
      } catch (error) {
        if (signal.aborted || (error instanceof ApiError && error.status === 401)) return;
        try {
          job = await api<Job>(`/plans/jobs/${job.id}`, { signal });
          show(job);
        } catch (inner) {
          if (signal.aborted || (inner instanceof ApiError && inner.status === 401)) return;
        }
        received = false;
      }
      if (!FINAL.has(job.status) && !received) await sleep(1000, signal);
    }
    if (!signal.aborted) finished(job);
  }

  async function start(): Promise<void> {
    button.disabled = true;
    replace(result);
    const limit = Math.max(1, Math.min(3600, Number(timeLimit.value) || 30));
    let body: Record<string, unknown> = { time_limit_s: limit };
    try {
      const draft = options.replan;
      if (draft) {
        if (draft.job_id) {
          const old = await api<Job>(`/plans/jobs/${draft.job_id}`);
          for (const key of JOB_FIELDS) {
            if (key in (old.params ?? {})) body[key] = old.params[key];
          }
          body = { ...body, time_limit_s: limit, order_ids: null };
        }
        await api(`/plans/${draft.id}/discard`, { method: "POST" });
      } else if (date.value) {
        body.delivery_date = date.value;
      }
      const job = await api<Job>("/plans/jobs", {
        json: body,
        headers: { "Idempotency-Key": randomKey() },
      });
      await follow(job);
    } catch (error) {
      replace(
        result,
        h(
          "p",
          { class: "error", role: "alert" },
          `The job could not be queued: ${describe(error)}`,
        ),
      );
      button.disabled = false;
    }
  }

  button.addEventListener("click", () => void start());
  cancel.addEventListener("click", async () => {
    if (!current) return;
    try {
      show(await api<Job>(`/plans/jobs/${current.id}/cancel`, { method: "POST" }));
    } catch (error) {
      status.textContent = `cannot cancel: ${describe(error)}`;
    }
  });
  if (!ctx.can("plans:write")) {
    button.disabled = true;
    button.title = "Your role may not plan";
  }

  if (!options.replan && ctx.can("plans:read")) {
    // A job already running (started here before a reload, or by someone else): follow it.
    void api<{ items: Job[] }>("/plans/jobs", { query: { active: true, limit: 1 } })
      .then((page) => {
        const active = page.items[0];
        if (active && !controller.signal.aborted) void follow(active);
      })
      .catch(() => undefined);
  }

  return { element, dispose: () => controller.abort() };
}
