// #/orders: import an orders CSV (with the service's row-level error report), plan the
// received orders, and page through the orders with their status and tracking link.

import { api, ApiError, describe } from "../api";
import type { Cleanup, PageArgs } from "../context";
import { invalidate } from "../data";
import { h, replace } from "../dom";
import { dateTime, hhmm, num } from "../format";
import { planPanel } from "../planjob";
import type { ImportIssue, ImportReport, Order, Page, Problem } from "../types";

const STATUSES = [
  "received",
  "planned",
  "dispatched",
  "out_for_delivery",
  "delivered",
  "failed",
  "returned",
];
const PAGE_SIZE = 100;

interface Issue {
  line: string;
  field: string;
  message: string;
  value: string;
}

function fromLoc(loc: (string | number)[], msg: string, value?: string | null): Issue {
  // ["file", line, column], ["file", line], ["file", "id", "<order id>", column?], ["file"]
  let line = "";
  let field = "";
  if (typeof loc[1] === "number") {
    line = String(loc[1]);
    field = loc[2] === undefined ? "" : String(loc[2]);
  } else if (loc[1] === "id" && loc.length > 2) {
    line = `order ${loc[2]}`;
    field = loc[3] === undefined ? "id" : String(loc[3]);
  } else if (loc.length > 1) {
    field = String(loc[loc.length - 1]);
  }
  return { line, field, message: msg, value: value ?? "" };
}

function fromIssue(issue: ImportIssue): Issue {
  const parsed = fromLoc(issue.loc ?? [], issue.msg, issue.value);
  return {
    ...parsed,
    line: issue.line !== null && issue.line !== undefined ? String(issue.line) : parsed.line,
    field: issue.column ?? parsed.field,
  };
}

function issueTable(title: string, issues: Issue[], kind: "error" | "warning"): HTMLElement {
  return h(
    "div",
    { class: `issues issues-${kind}` },
    h("h3", null, `${title} (${issues.length})`),
    h(
      "table",
      { class: "table compact" },
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          ["Line", "Field", "Problem", "Value"].map((t) => h("th", null, t)),
        ),
      ),
      h(
        "tbody",
        null,
        issues.map((issue) =>
          h(
            "tr",
            { class: `import-${kind}`, "data-line": issue.line, "data-field": issue.field },
            h("td", null, issue.line || "–"),
            h("td", null, issue.field || "–"),
            h("td", null, issue.message),
            h("td", null, issue.value),
          ),
        ),
      ),
    ),
  );
}

function counts(report: Partial<ImportReport>, imported: boolean): HTMLElement {
  const items: [string, number | undefined][] = [
    ["created", report.created],
    ["updated", report.updated],
    ["unchanged", report.unchanged],
    ["rejected", report.rejected],
  ];
  return h(
    "ul",
    { class: "counts" },
    items.map(([label, value]) =>
      h("li", { "data-count": label }, h("strong", null, String(value ?? 0)), ` ${label}`),
    ),
    imported ? null : h("li", { class: "error" }, "nothing was imported"),
  );
}

function reportOf(report: ImportReport): HTMLElement[] {
  const parts: HTMLElement[] = [
    h("p", { class: report.errors.length ? "warning" : "ok" }, `Imported ${report.file}.`),
    counts(report, true),
  ];
  if (report.errors.length)
    parts.push(issueTable("Rows not imported", report.errors.map(fromIssue), "error"));
  if (report.warnings.length)
    parts.push(issueTable("Warnings", report.warnings.map(fromIssue), "warning"));
  return parts;
}

function failureOf(error: unknown): HTMLElement[] {
  const problem: Problem | null = error instanceof ApiError ? error.problem : null;
  const errors = (problem?.errors ?? []).map((e) => fromLoc(e.loc, e.msg));
  const warnings = Array.isArray(problem?.warnings)
    ? (problem.warnings as ImportIssue[]).map(fromIssue)
    : [];
  const parts: HTMLElement[] = [h("p", { class: "error", role: "alert" }, describe(error))];
  if (problem?.type?.endsWith(":invalid-rows")) {
    const lines = new Set(errors.map((e) => e.line).filter(Boolean));
    parts.push(counts({ rejected: lines.size || errors.length }, false));
  }
  if (errors.length) parts.push(issueTable("Errors", errors, "error"));
  if (warnings.length) parts.push(issueTable("Warnings", warnings, "warning"));
  return parts;
}

function orderRow(order: Order): HTMLTableRowElement {
  const window =
    order.tw_early_s > 0 || order.tw_late_s !== null
      ? `${order.tw_early_s > 0 ? hhmm(order.tw_early_s) : ""}–${order.tw_late_s !== null ? hhmm(order.tw_late_s) : ""}`
      : "any time";
  return h(
    "tr",
    null,
    h("td", null, order.external_id),
    h(
      "td",
      null,
      h("span", { class: `status status-${order.status}` }, order.status.replace(/_/g, " ")),
    ),
    h("td", null, order.delivery_date ?? "–"),
    h("td", null, window),
    h("td", { class: "num" }, order.parcels),
    h("td", { class: "num" }, num(order.weight_kg, 1)),
    h("td", null, `${num(order.latitude_deg, 5)}, ${num(order.longitude_deg, 5)}`),
    h(
      "td",
      null,
      order.tracking_token
        ? h(
            "a",
            {
              href: `/track/${encodeURIComponent(order.tracking_token)}`,
              target: "_blank",
              rel: "noopener noreferrer",
            },
            "track",
          )
        : "–",
    ),
    h("td", null, dateTime(order.updated_at)),
  );
}

export async function ordersPage({ root, ctx }: PageArgs): Promise<Cleanup> {
  const canWrite = ctx.can("orders:write");
  const file = h("input", {
    type: "file",
    name: "file",
    accept: ".csv,text/csv,text/plain",
    required: true,
    "data-testid": "orders-import-file",
  });
  const partial = h("input", { type: "checkbox", name: "partial" });
  const date = h("input", { type: "date", name: "delivery_date" });
  const submit = h(
    "button",
    { type: "submit", class: "primary", "data-testid": "orders-import-submit" },
    "Import",
  );
  const report = h("div", {
    class: "import-report",
    "data-testid": "orders-import-report",
    "aria-live": "polite",
  });
  report.hidden = true;
  const form = h(
    "form",
    { class: "import-form" },
    h("label", { class: "field" }, "Orders CSV", file),
    h("label", { class: "field" }, "Delivery date (for rows without one)", date),
    h("label", { class: "check" }, partial, "Import the good rows even if others are bad"),
    submit,
  );

  const status = h(
    "select",
    { "aria-label": "Status" },
    h("option", { value: "" }, "all statuses"),
    STATUSES.map((s) => h("option", { value: s }, s.replace(/_/g, " "))),
  );
  const listBox = h("div");
  const pager = h("div", { class: "pager" });
  let offset = 0;

  async function loadOrders(): Promise<void> {
    try {
      const page = await api<Page<Order>>("/orders", {
        query: { limit: PAGE_SIZE, offset, status: status.value || null },
      });
      replace(
        listBox,
        page.items.length === 0
          ? h("p", { class: "muted" }, "No orders.")
          : h(
              "table",
              { class: "table orders-table" },
              h(
                "thead",
                null,
                h(
                  "tr",
                  null,
                  [
                    "Order",
                    "Status",
                    "Date",
                    "Window",
                    "Parcels",
                    "kg",
                    "Position",
                    "Link",
                    "Updated",
                  ].map((t) => h("th", null, t)),
                ),
              ),
              h("tbody", null, page.items.map(orderRow)),
            ),
      );
      const prev = h(
        "button",
        { type: "button", class: "secondary", disabled: offset === 0 },
        "Previous",
      );
      const next = h(
        "button",
        { type: "button", class: "secondary", disabled: offset + page.items.length >= page.total },
        "Next",
      );
      prev.addEventListener("click", () => {
        offset = Math.max(0, offset - PAGE_SIZE);
        void loadOrders();
      });
      next.addEventListener("click", () => {
        offset += PAGE_SIZE;
        void loadOrders();
      });
      replace(
        pager,
        prev,
        h(
          "span",
          null,
          page.total === 0 ? "0" : `${offset + 1}–${offset + page.items.length} of ${page.total}`,
        ),
        next,
      );
    } catch (error) {
      replace(
        listBox,
        h("p", { class: "error" }, `The orders could not be read: ${describe(error)}`),
      );
    }
  }
  status.addEventListener("change", () => {
    offset = 0;
    void loadOrders();
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = file.files?.[0];
    if (!chosen) {
      report.hidden = false;
      replace(report, h("p", { class: "error", role: "alert" }, "Choose a CSV file first."));
      return;
    }
    submit.disabled = true;
    report.hidden = false;
    replace(report, h("p", { class: "muted" }, `Importing ${chosen.name}…`));
    const body = new FormData();
    body.append("file", chosen, chosen.name);
    try {
      const result = await api<ImportReport>("/orders/import", {
        form: body,
        query: { partial: partial.checked ? "true" : null, delivery_date: date.value || null },
      });
      replace(report, ...reportOf(result));
      invalidate();
      offset = 0;
      await loadOrders();
    } catch (error) {
      replace(report, ...failureOf(error));
    } finally {
      submit.disabled = false;
    }
  });

  const panel = ctx.can("plans:write")
    ? planPanel(ctx, { onFinished: () => void loadOrders() })
    : null;
  replace(
    root,
    h("h1", null, "Orders"),
    canWrite
      ? h(
          "section",
          { class: "card" },
          h("h2", null, "Import orders"),
          h(
            "p",
            { class: "muted small" },
            "The orders.csv of docs/input-formats.md. Importing the same file again changes nothing.",
          ),
          form,
          report,
        )
      : null,
    panel?.element ?? null,
    h(
      "section",
      { class: "card" },
      h("div", { class: "row" }, h("h2", null, "Orders"), status),
      listBox,
      pager,
    ),
  );
  await loadOrders();
  return () => panel?.dispose();
}
