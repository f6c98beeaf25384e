"""``evfleet demo``: the whole platform on one machine, on embedded defaults only.

It starts the service (SQLite in a fresh folder, the planning worker, the dashboard) at
``http://127.0.0.1:8000``, then acts as a dispatcher would, through the REST API: loads the
bundled Munich example day (fleet, depot, public chargers, the orders file), plans it,
dispatches it, and drives every route with the simulator, which posts VSS telemetry over
HTTP with one API key per van (no MQTT broker needed) at a speed-up (60: a minute a
second). One van is given a weak battery so that a low-energy alert shows. The simulated
day is yesterday's date, so that no fix lies in the future of the wall clock.
"""

from __future__ import annotations

import datetime as dt
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import httpx

from evfleet.day import DeliveryDay
from evfleet.errors import EvfleetError

__all__ = ["DEMO_DRIVER", "DEMO_EMAIL", "DEMO_PASSWORD", "DemoOptions", "run_demo"]

DEMO_EMAIL = "dispatcher@demo.evfleet.test"
DEMO_DRIVER = "driver@demo.evfleet.test"
DEMO_PASSWORD = "evfleet-demo"
"""The demo's logins (an admin who dispatches, and the driver of route 1); the service
listens on the loopback interface only by default."""


class DemoError(EvfleetError):
    """The demo could not start (port taken, example missing, planning failed)."""


@dataclass(frozen=True)
class DemoOptions:
    """``speedup``: simulated s per wall s; ``time_limit_s``: planning time;
    ``stop_after_s``: stop the service this many wall s after the simulation started
    (``None``: run until interrupted); ``data_dir``: where the SQLite file goes (a new
    temporary folder by default)."""

    host: str = "127.0.0.1"
    port: int = 8000
    speedup: float = 60.0
    time_limit_s: float = 20.0
    stop_after_s: float | None = None
    data_dir: Path | None = None
    seed: int = 0


def _example(name: str) -> Path:
    path = Path(str(resources.files("evfleet") / "examples" / "munich-day" / name))
    if not path.is_file():
        raise DemoError(f"the bundled example file {path} is missing")
    return path


def _example_day() -> DeliveryDay:
    from evfleet.workflow import read_day

    inputs = read_day(_example("orders.csv"), _example("fleet.yaml"), _example("chargers.csv"))
    if inputs.day is None:
        raise DemoError("the bundled example day cannot be read")
    return inputs.day


def _check_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise DemoError(
                f"cannot listen on {host}:{port} ({exc.strerror}); pick another with --port"
            ) from None


def _ok(response: httpx.Response, what: str) -> Any:
    if response.status_code >= 400:
        raise DemoError(f"{what}: HTTP {response.status_code} {response.text[:500]}")
    return response.json() if response.content else None


def _time(seconds: float) -> float | None:
    return None if seconds == float("inf") else seconds


class _Dispatcher:
    """Loads the example day through the API, plans and dispatches it."""

    def __init__(self, base: str, say: Callable[[str], None]) -> None:
        self.base = base
        self.say = say
        self.http = httpx.Client(base_url=f"{base}/api/v1", timeout=60.0)

    def login(self, email: str, password: str) -> None:
        token = _ok(
            self.http.post("/auth/token", data={"username": email, "password": password}),
            "login",
        )["access_token"]
        self.http.headers["Authorization"] = f"Bearer {token}"

    def load_example(self) -> None:
        day = _example_day()
        fleet = day.fleet
        _ok(
            self.http.patch(
                "/organisations/current",
                json={
                    "name": fleet.name or "evfleet demo",
                    "country": fleet.country,
                    "currency": fleet.currency,
                    "diesel_price_per_l": fleet.diesel_price_per_l,
                    "carbon_price_per_t": fleet.carbon_price_per_t,
                    "outside_temperature_c": fleet.outside_temperature_c,
                },
            ),
            "organisation settings",
        )
        depots = {}
        for d in fleet.depots:
            body = {
                "code": d.id,
                "name": d.name,
                "latitude_deg": d.latitude_deg,
                "longitude_deg": d.longitude_deg,
                "open_s": d.open_s,
                "close_s": _time(d.close_s),
                "electricity_price_per_kwh": d.electricity_price_per_kwh,
                "charge_points": [{"power_w": c.power_w, "count": c.count} for c in d.chargers],
            }
            depots[d.id] = _ok(self.http.post("/depots", json=body), f"depot {d.id}")["id"]
        plate = 0
        for g in fleet.vehicle_groups:
            body = {
                "code": g.id,
                "name": g.id,
                "catalogue_id": g.catalogue_id,
                "powertrain": g.powertrain.value if g.powertrain else None,
                "capacity_kg": g.capacity_kg,
                "battery_wh": g.battery_wh,
                "energy_wh_per_m": g.energy_wh_per_m,
                "fuel_l_per_m": g.fuel_l_per_m,
                "driver_cost_per_hour": g.driver_cost_per_hour,
                "fixed_cost_per_day": g.fixed_cost_per_day,
            }
            body = {k: v for k, v in body.items() if v is not None}
            type_id = _ok(self.http.post("/vehicle-types", json=body), f"vehicle type {g.id}")["id"]
            for _ in range(g.count):
                plate += 1
                _ok(
                    self.http.post(
                        "/vehicles",
                        json={
                            "plate": f"M-EF {100 + plate}",
                            "name": f"{g.id} {plate}",
                            "vehicle_type_id": type_id,
                            "depot_id": depots[g.depot_id],
                        },
                    ),
                    "vehicle",
                )
        for c in day.chargers:
            body = {
                "code": c.id,
                "name": c.name,
                "latitude_deg": c.latitude_deg,
                "longitude_deg": c.longitude_deg,
                "power_w": c.power_w,
                "connectors": c.connectors,
                "price_per_kwh": c.price_per_kwh,
                "open_s": c.open_s,
                "close_s": _time(c.close_s),
                "public": c.public,
            }
            _ok(self.http.post("/chargers", json=body), f"charger {c.id}")
        with _example("orders.csv").open("rb") as f:
            report = _ok(
                self.http.post("/orders/import", files={"file": ("orders.csv", f, "text/csv")}),
                "orders import",
            )
        self.say(f"loaded {len(report.get('orders', []))} orders, {plate} vans")
        _ok(
            self.http.post(
                "/users",
                json={
                    "email": DEMO_DRIVER,
                    "name": "Demo driver",
                    "role": "driver",
                    "password": DEMO_PASSWORD,
                },
            ),
            "driver",
        )

    def plan(self, time_limit_s: float, seed: int) -> dict[str, Any]:
        groups = _example_day().fleet.vehicle_groups
        job = _ok(
            self.http.post(
                "/plans/jobs",
                json={
                    "name": "Demo day",
                    "time_limit_s": time_limit_s,
                    "seed": seed,
                    "shift_start_s": min(g.shift_start_s for g in groups),
                    "shift_end_s": max(g.shift_end_s for g in groups),
                    "start_soc": min(g.start_soc for g in groups),
                },
            ),
            "planning job",
        )
        self.say(f"planning the day ({time_limit_s:.0f} s)...")
        while True:
            state = _ok(self.http.get(f"/plans/jobs/{job['id']}"), "planning job")
            if state["status"] in ("succeeded", "failed", "cancelled"):
                break
            time.sleep(0.5)
        if state["status"] != "succeeded":
            raise DemoError(f"planning {state['status']}: {state.get('error')}")
        plan = _ok(self.http.get(f"/plans/{state['plan_id']}"), "plan")
        users = _ok(self.http.get("/users", params={"limit": 100}), "users")["items"]
        driver = next(u["id"] for u in users if u["email"] == DEMO_DRIVER)
        first = plan["routes"][0]["id"]
        dispatched: dict[str, Any] = _ok(
            self.http.post(
                f"/plans/{plan['id']}/dispatch",
                json={"assignments": [{"route_id": first, "driver_id": driver}]},
            ),
            "dispatch",
        )
        kpis = plan.get("kpis") or {}
        self.say(
            f"dispatched {len(plan['routes'])} routes: {kpis.get('distance_m', 0) / 1000:.0f} km"
        )
        return dispatched

    def parked_vans(self, driving: set[str]) -> dict[str, tuple[float, float]]:
        """The vans without a route: id → their depot's (latitude, longitude)."""
        depots = _ok(self.http.get("/depots"), "depots")["items"]
        where = {d["id"]: (d["latitude_deg"], d["longitude_deg"]) for d in depots}
        vans = _ok(self.http.get("/vehicles", params={"limit": 500}), "vehicles")["items"]
        return {v["id"]: where[v["depot_id"]] for v in vans if v["id"] not in driving}

    def vehicle_keys(self, vehicle_ids: list[str]) -> dict[str, str]:
        keys = {}
        for vid in vehicle_ids:
            made = _ok(
                self.http.post(
                    "/api-keys",
                    json={"name": f"van {vid[:8]}", "role": "vehicle", "vehicle_id": vid},
                ),
                "vehicle key",
            )
            keys[vid] = made["key"]
        return keys


def _simulate(
    db_url: str,
    base: str,
    plan: dict[str, Any],
    keys: dict[str, str],
    parked: dict[str, tuple[float, float]],
    options: DemoOptions,
    stop: threading.Event,
) -> None:
    from evfleet.simulator.faults import FaultSettings
    from evfleet.simulator.fleet import SimulationSettings, simulate_plan
    from evfleet.simulator.publish import HttpPublisher, play
    from evfleet.store import models as m
    from evfleet.store.db import Database
    from evfleet.telemetry import TelemetryMessage
    from evfleet.tracking import planned_routes

    db = Database(db_url)
    with db.sessions() as session:
        row = session.get(m.Plan, uuid.UUID(plan["id"]))
        assert row is not None
        doc = row.document
    db.engine.dispose()
    numbers = {int(r["index"]): int(r["number"]) for r in doc["routes"]}
    ids = {numbers[r["index"]]: r["vehicle_id"] for r in plan["routes"] if r["vehicle_id"]}
    electric = [ids[r.number] for r in planned_routes(doc) if r.battery_wh and r.number in ids]
    weak = frozenset(electric[1:2] or electric[:1])  # one van drains fast: a low-energy alert
    first_s = min((r["start_s"] for r in plan["routes"] if r["start_s"] is not None), default=0)
    day = dt.datetime.now().astimezone().date() - dt.timedelta(days=1)
    midnight = dt.datetime.combine(day, dt.time(0)).astimezone()
    start = midnight + dt.timedelta(seconds=max(first_s - 900.0, 0.0))
    settings = SimulationSettings(
        seed=options.seed,
        vehicle_ids=ids,
        faults=FaultSettings(low_battery=weak, low_battery_soc_pct=8.0),
    )
    sim = simulate_plan(doc, settings, start=start)
    publisher = HttpPublisher(base, keys, linger_s=0.5)
    # The vans left at the depot report too: parked, charged, plugged in.
    publisher.send(
        [
            TelemetryMessage(vid, 1, start, lat, lon, speed_m_per_s=0.0, soc_pct=100.0)
            for vid, (lat, lon) in parked.items()
        ]
    )

    class _Stopped(Exception):
        pass

    def check(_batch: object) -> None:
        if stop.is_set():
            raise _Stopped

    try:
        play(
            sim.deliveries,
            publisher,
            start_s=sim.start_s,
            speedup=options.speedup,
            on_batch=check,
        )
    except _Stopped:
        pass
    finally:
        publisher.close()


def run_demo(options: DemoOptions, say: Callable[[str], None] = print) -> None:
    """Runs the demo until interrupted (or ``options.stop_after_s``); see the module doc."""
    import uvicorn

    from evfleet.api.app import create_app
    from evfleet.api.bootstrap import ensure_bootstrap_admin
    from evfleet.api.deps import services_of_app
    from evfleet.api.settings import Settings
    from evfleet.api.worker import start_worker_process

    _check_port(options.host, options.port)
    folder = options.data_dir or Path(tempfile.mkdtemp(prefix="evfleet-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "evfleet-demo.db"
    if database.exists():
        database.unlink()
    settings = Settings(database_url=f"sqlite:///{database}")
    application = create_app(settings)
    services = services_of_app(application)
    with services.db.sessions() as session:
        ensure_bootstrap_admin(session, services.hasher, "evfleet demo", DEMO_EMAIL, DEMO_PASSWORD)
    worker = start_worker_process(settings.database_url)
    server = uvicorn.Server(
        uvicorn.Config(application, host=options.host, port=options.port, log_level="warning")
    )
    base = f"http://{options.host}:{options.port}"
    stop = threading.Event()
    failure: list[BaseException] = []

    def drive() -> None:
        try:
            while not server.started:
                if server.should_exit:
                    return
                time.sleep(0.05)
            dispatcher = _Dispatcher(base, say)
            dispatcher.login(DEMO_EMAIL, DEMO_PASSWORD)
            dispatcher.load_example()
            plan = dispatcher.plan(options.time_limit_s, options.seed)
            vans = [r["vehicle_id"] for r in plan["routes"] if r["vehicle_id"]]
            parked = dispatcher.parked_vans(set(vans))
            keys = dispatcher.vehicle_keys(vans + list(parked))
            say(
                f"simulating {len(vans)} routes at {options.speedup:g}x "
                f"({len(vans) + len(parked)} vans report); open {base}/"
            )
            say(f"log in as {DEMO_EMAIL} / {DEMO_PASSWORD} (driver: {DEMO_DRIVER})")
            timer = None
            if options.stop_after_s is not None:
                timer = threading.Timer(options.stop_after_s, stop.set)
                timer.daemon = True
                timer.start()
            _simulate(settings.database_url, base, plan, keys, parked, options, stop)
            if options.stop_after_s is not None:
                stop.wait()
                server.should_exit = True
            else:
                say("the simulated day is over; the dashboard stays up (Ctrl-C to stop)")
        except BaseException as exc:  # reported by run_demo
            failure.append(exc)
            server.should_exit = True

    say(f"evfleet demo: data in {folder}; starting the service on {base}/")
    thread = threading.Thread(target=drive, name="evfleet-demo", daemon=True)
    thread.start()
    try:
        server.run()
    finally:
        stop.set()
        application.state.live_tracking.flush(10.0)
        worker.terminate()
        worker.join(10)
        thread.join(5)
    if failure:
        raise DemoError(str(failure[0])) from failure[0]
