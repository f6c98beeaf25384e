// Reference data read by several pages (depots, chargers, vehicles, drivers), fetched once
// per login and shared; a role that may not read something gets an empty list.

import { all, ApiError } from "./api";
import type { Context } from "./context";
import type { Charger, Depot, User, Vehicle } from "./types";

const cache = new Map<string, Promise<unknown[]>>();
let owner: string | null = null;

function cached<T>(ctx: Context, key: string, permission: string, path: string, query = {}) {
  if (owner !== ctx.me.id) {
    cache.clear();
    owner = ctx.me.id;
  }
  if (!ctx.can(permission)) return Promise.resolve([] as T[]);
  let promise = cache.get(key) as Promise<T[]> | undefined;
  if (!promise) {
    promise = all<T>(path, query).catch((error: unknown) => {
      cache.delete(key);
      if (error instanceof ApiError && (error.status === 403 || error.status === 404)) {
        return [] as T[];
      }
      throw error;
    });
    cache.set(key, promise);
  }
  return promise;
}

export const depots = (ctx: Context) => cached<Depot>(ctx, "depots", "fleet:read", "/depots");
export const chargers = (ctx: Context) =>
  cached<Charger>(ctx, "chargers", "fleet:read", "/chargers");
export const vehicles = (ctx: Context) =>
  cached<Vehicle>(ctx, "vehicles", "fleet:read", "/vehicles");
export const drivers = (ctx: Context) =>
  cached<User>(ctx, "drivers", "users:read", "/users", { role: "driver" });

export function byId<T extends { id: string }>(items: T[]): Map<string, T> {
  return new Map(items.map((item) => [item.id, item]));
}

/** Forget everything (after an import or a dispatch changed what the lists hold). */
export function invalidate(key?: string): void {
  if (key) cache.delete(key);
  else cache.clear();
}
