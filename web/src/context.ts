// What every page knows: who is logged in, what they may do, the UI configuration.

import type { Me, UiConfig } from "./types";

export interface Context {
  me: Me;
  config: UiConfig;
  currency: string;
  can(permission: string): boolean;
  /** A driver: sees only the dispatched routes assigned to them. */
  driver: boolean;
}

export type Cleanup = () => void;

export interface PageArgs {
  root: HTMLElement;
  ctx: Context;
  /** Path segments after the page name, e.g. ["<plan id>"] for #/plans/<plan id>. */
  parts: string[];
  query: URLSearchParams;
}

export type Page = (args: PageArgs) => Cleanup | void | Promise<Cleanup | void>;

export const DEFAULT_CONFIG: UiConfig = {
  tile_url: null,
  tile_attribution: "",
  tile_max_zoom: 19,
};
