// The shapes of the API's answers that the dashboard reads (see docs/api.md and
// src/evfleet/api/schemas.py). Fields the service may not send yet are optional.

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface Me {
  kind: "user" | "api_key";
  id: string;
  organisation_id: string;
  role: string;
  label: string;
  user_id: string | null;
  vehicle_id: string | null;
  permissions: string[];
}

export interface UiConfig {
  tile_url: string | null;
  tile_attribution: string;
  tile_max_zoom: number;
}

export interface Organisation {
  id: string;
  name: string;
  currency: string;
}

export interface Depot {
  id: string;
  code: string;
  name: string;
  latitude_deg: number;
  longitude_deg: number;
  charge_points: { power_w: number; count: number }[];
}

export interface Charger {
  id: string;
  code: string;
  name: string;
  latitude_deg: number;
  longitude_deg: number;
  power_w: number;
  connectors: number;
  price_per_kwh: number;
  public: boolean;
}

export interface Vehicle {
  id: string;
  plate: string;
  name: string;
  vehicle_type_id: string;
  depot_id: string;
  active: boolean;
}

export interface User {
  id: string;
  email: string;
  name: string;
  role: string;
  active: boolean;
}

export type StopStatus = "planned" | "arrived" | "departed" | "delivered";

export interface Stop {
  id?: string;
  sequence: number;
  kind: "delivery" | "charging";
  location: string;
  order_id: string | null;
  charger_id: string | null;
  latitude_deg: number | null;
  longitude_deg: number | null;
  arrival_s: number | null;
  departure_s: number | null;
  charging_s: number;
  charged_wh: number;
  soc_arrival_pct: number | null;
  soc_departure_pct: number | null;
  load_kg: number | null;
  status?: StopStatus;
  actual_arrival_s?: number | null;
  actual_departure_s?: number | null;
  eta_s?: number | null;
}

export type Kpis = Record<string, unknown>;

export interface Route {
  id: string;
  plan_id: string;
  index: number;
  vehicle_type_id: string | null;
  depot_id: string | null;
  vehicle_id: string | null;
  driver_id: string | null;
  start_s: number | null;
  end_s: number | null;
  kpis: Kpis;
  stops: Stop[];
  charging_stops: Stop[];
}

export interface PlanSummary {
  id: string;
  name: string;
  status: "draft" | "dispatched" | "discarded";
  feasible: boolean;
  job_id: string | null;
  route_count: number;
  kpis: Kpis;
  created_at: string;
  dispatched_at: string | null;
}

export interface PlanDetail extends PlanSummary {
  unassigned: string[];
  violations: string[];
  routes: Route[];
  diesel_comparison?: Kpis | null;
}

export interface Geometry {
  routes: { route_id: string; index: number; road: boolean; coordinates: [number, number][] }[];
}

export interface JobProgress {
  elapsed_s: number;
  iteration: number;
  feasible: boolean;
  vehicles: number;
  objective: number | null;
  stage?: string | null;
}

export interface Job {
  id: string;
  status: "queued" | "running" | "succeeded" | "failed" | "cancelled";
  params: Record<string, unknown>;
  progress: JobProgress | null;
  error: string | null;
  cancel_requested: boolean;
  plan_id: string | null;
  created_by: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface Order {
  id: string;
  external_id: string;
  latitude_deg: number;
  longitude_deg: number;
  parcels: number;
  weight_kg: number;
  tw_early_s: number;
  tw_late_s: number | null;
  service_s: number;
  notes: string;
  delivery_date: string | null;
  status: string;
  tracking_token?: string;
  created_at: string;
  updated_at: string;
}

export interface ImportIssue {
  loc: (string | number)[];
  msg: string;
  line: number | null;
  column: string | null;
  value: string | null;
}

export interface ImportReport {
  file: string;
  created: number;
  updated: number;
  unchanged: number;
  rejected: number;
  orders: { external_id: string; id: string; outcome: string }[];
  errors: ImportIssue[];
  warnings: ImportIssue[];
}

export interface VehicleLive {
  vehicle_id: string;
  plate: string;
  name: string;
  plan_id: string | null;
  route_id: string | null;
  latitude_deg: number;
  longitude_deg: number;
  heading_deg: number | null;
  speed_m_per_s: number | null;
  soc_pct: number | null;
  range_m: number | null;
  charging: boolean | null;
  timestamp: string;
  /** When the service received the fix (ISO 8601); staleness is measured from it. */
  received_at?: string;
  seq: number;
}

export type EventKind =
  | "route-started"
  | "stop-arrived"
  | "stop-departed"
  | "stop-delivered"
  | "route-completed"
  | "alert-raised"
  | "alert-cleared";

export interface LiveEvent {
  id: string;
  at: string;
  plan_id: string | null;
  route_id: string | null;
  vehicle_id: string | null;
  kind: EventKind | string;
  severity: "info" | "warning" | string;
  message: string;
  stop_id: string | null;
  order_id: string | null;
  data: Record<string, unknown>;
}

export interface StopUpdate {
  type: "stop";
  plan_id: string;
  route_id: string;
  stop_id: string;
  sequence: number;
  status: StopStatus;
  actual_arrival_s: number | null;
  actual_departure_s: number | null;
  eta_s: number | null;
}

/** The latest ETAs of a route's remaining stops (s since the plan day's midnight). */
export interface EtaUpdate {
  type: "eta";
  plan_id: string;
  route_id: string;
  stops: { stop_id: string; sequence: number; eta_s: number | null }[];
}

export type LiveMessage =
  | { type: "snapshot"; vehicles: VehicleLive[] }
  | ({ type: "vehicle" } & VehicleLive)
  | StopUpdate
  | EtaUpdate
  | ({ type: "event" } & LiveEvent);

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: { loc: (string | number)[]; msg: string; type?: string }[];
  [key: string]: unknown;
}

export interface TrackInfo {
  status: string;
  delivery_date: string | null;
  eta_earliest_s: number | null;
  eta_latest_s: number | null;
  delivered_at_s: number | null;
  updated_at: string;
}
