// The live connection: one WebSocket to /api/v1/live/ws (token in the query, as browsers
// cannot set headers on it), reconnected with exponential back-off when it closes.

import { API, getToken } from "./api";
import type { LiveMessage, VehicleLive } from "./types";

export type LiveState = "connecting" | "open" | "closed";
type Listener = (message: LiveMessage) => void;
type StateListener = (state: LiveState) => void;

const MIN_DELAY_MS = 1000;
const MAX_DELAY_MS = 30000;

export class Live {
  private socket: WebSocket | null = null;
  private delay = MIN_DELAY_MS;
  private timer: number | null = null;
  private running = false;
  private readonly listeners = new Set<Listener>();
  private readonly stateListeners = new Set<StateListener>();
  /** The newest position of every vehicle seen (snapshot and updates). */
  readonly vehicles = new Map<string, VehicleLive>();
  state: LiveState = "closed";

  start(): void {
    if (this.running) return;
    this.running = true;
    this.connect();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== null) window.clearTimeout(this.timer);
    this.timer = null;
    const socket = this.socket;
    this.socket = null;
    if (socket) socket.close(1000, "logout");
    this.vehicles.clear();
    this.setState("closed");
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onState(listener: StateListener): () => void {
    this.stateListeners.add(listener);
    listener(this.state);
    return () => this.stateListeners.delete(listener);
  }

  /** Vehicles read some other way (GET /live/vehicles) while the socket is down. */
  seed(vehicles: VehicleLive[]): void {
    for (const vehicle of vehicles) this.remember(vehicle);
  }

  private remember(vehicle: VehicleLive): boolean {
    const known = this.vehicles.get(vehicle.vehicle_id);
    if (known && typeof known.seq === "number" && vehicle.seq < known.seq) return false;
    this.vehicles.set(vehicle.vehicle_id, vehicle);
    return true;
  }

  private setState(state: LiveState): void {
    this.state = state;
    for (const listener of this.stateListeners) listener(state);
  }

  private connect(): void {
    const token = getToken();
    if (!this.running || !token) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const address = `${scheme}://${location.host}${API}/live/ws?access_token=${encodeURIComponent(token)}`;
    this.setState("connecting");
    let socket: WebSocket;
    try {
      socket = new WebSocket(address);
    } catch {
      this.retry();
      return;
    }
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.delay = MIN_DELAY_MS;
      this.setState("open");
    });
    socket.addEventListener("message", (event) => {
      if (typeof event.data !== "string") return;
      let message: LiveMessage;
      try {
        message = JSON.parse(event.data) as LiveMessage;
      } catch {
        return;
      }
      this.dispatch(message);
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.setState("closed");
      // 4401 (bad credential), 4403 (role) or 1008: retrying will not help soon;
      // 4408: this client fell behind and gets a fresh snapshot on reconnecting.
      if (event.code === 1008 || event.code === 4401 || event.code === 4403) {
        this.delay = MAX_DELAY_MS;
      } else if (event.code === 4408) {
        this.delay = MIN_DELAY_MS / 4;
      }
      this.retry();
    });
  }

  private dispatch(message: LiveMessage): void {
    if (message.type === "snapshot") {
      this.vehicles.clear();
      for (const vehicle of message.vehicles ?? []) this.remember(vehicle);
    } else if (message.type === "vehicle") {
      if (!this.remember(message)) return;
    }
    for (const listener of this.listeners) {
      try {
        listener(message);
      } catch (error) {
        console.error("live listener failed", error);
      }
    }
  }

  private retry(): void {
    if (!this.running) return;
    const wait = this.delay * (0.75 + Math.random() * 0.5);
    this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
    this.timer = window.setTimeout(() => {
      this.timer = null;
      this.connect();
    }, wait);
  }
}

export const live = new Live();
