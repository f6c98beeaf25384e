// The API client: bearer token from sessionStorage, problem+json errors, 401 -> login,
// and a server-sent-events reader over fetch() (EventSource cannot send Authorization).

import type { Problem } from "./types";

export const API = "/api/v1";
const TOKEN_KEY = "evfleet.token";

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem | null;

  constructor(status: number, message: string, problem: Problem | null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
  }
}

export function getToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string | null): void {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage disabled: the session lasts as long as the page */
  }
}

type UnauthorizedHandler = () => void;
let onUnauthorized: UnauthorizedHandler = () => undefined;

/** What to do when a request with a token answers 401 (the token expired or was revoked). */
export function setUnauthorizedHandler(handler: UnauthorizedHandler): void {
  onUnauthorized = handler;
}

export interface RequestOptions {
  method?: string;
  json?: unknown;
  form?: FormData | URLSearchParams;
  query?: Record<string, string | number | boolean | null | undefined>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Send no token and do not treat 401 as "log in again" (the login request itself). */
  anonymous?: boolean;
}

export function url(path: string, query?: RequestOptions["query"]): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== null && value !== undefined && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return `${API}${path}${text ? `?${text}` : ""}`;
}

function headersFor(options: RequestOptions): Headers {
  const headers = new Headers(options.headers ?? {});
  headers.set("Accept", headers.get("Accept") ?? "application/json");
  const token = options.anonymous ? null : getToken();
  if (token) headers.set("Authorization", `Bearer ${token}`);
  if (options.json !== undefined) headers.set("Content-Type", "application/json");
  return headers;
}

async function problemOf(response: Response): Promise<Problem | null> {
  const type = response.headers.get("Content-Type") ?? "";
  if (!type.includes("json")) return null;
  try {
    return (await response.json()) as Problem;
  } catch {
    return null;
  }
}

async function failure(response: Response, options: RequestOptions): Promise<ApiError> {
  const problem = await problemOf(response);
  if (response.status === 401 && !options.anonymous) {
    setToken(null);
    onUnauthorized();
  }
  const message =
    problem?.detail || problem?.title || `${response.status} ${response.statusText}`.trim();
  return new ApiError(response.status, message, problem);
}

export async function request(path: string, options: RequestOptions = {}): Promise<Response> {
  let body: BodyInit | undefined;
  if (options.json !== undefined) body = JSON.stringify(options.json);
  else if (options.form !== undefined) body = options.form;
  let response: Response;
  try {
    response = await fetch(url(path, options.query), {
      method: options.method ?? (body === undefined ? "GET" : "POST"),
      headers: headersFor(options),
      body,
      signal: options.signal,
      credentials: "same-origin",
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(0, "the service cannot be reached", null);
  }
  if (!response.ok) throw await failure(response, options);
  return response;
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await request(path, options);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** Like {@link api}, but a 404 (an endpoint the service does not have yet) answers null. */
export async function optional<T>(path: string, options: RequestOptions = {}): Promise<T | null> {
  try {
    return await api<T>(path, options);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 405)) return null;
    throw error;
  }
}

/** Every item of a paged list (at most `max`). */
export async function all<T>(
  path: string,
  query: RequestOptions["query"] = {},
  max = 5000,
): Promise<T[]> {
  const items: T[] = [];
  for (let offset = 0; offset < max;) {
    const page = await api<{ items: T[]; total: number }>(path, {
      query: { ...query, limit: 500, offset },
    });
    items.push(...page.items);
    offset += page.items.length;
    if (page.items.length === 0 || offset >= page.total) break;
  }
  return items;
}

export interface ServerEvent {
  event: string;
  data: string;
  id: string | null;
}

/** Reads a text/event-stream with fetch(); yields each event, returns when it closes. */
export async function* serverEvents(
  path: string,
  options: RequestOptions = {},
): AsyncGenerator<ServerEvent> {
  const response = await request(path, {
    ...options,
    headers: { ...(options.headers ?? {}), Accept: "text/event-stream" },
  });
  if (!response.body) return;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event = "message";
  let data: string[] = [];
  let id: string | null = null;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, "\n");
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (line === "") {
          if (data.length > 0) yield { event, data: data.join("\n"), id };
          event = "message";
          data = [];
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "event") event = value;
        else if (field === "data") data.push(value);
        else if (field === "id") id = value;
      }
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
}

export function describe(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 403) return "Your role may not do this.";
    return error.message;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
