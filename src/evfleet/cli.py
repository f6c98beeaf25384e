"""The ``evfleet`` command line: solve and check routing problems, run the bundled example.

Exit codes: 0 success (a feasible plan), 1 an infeasible plan, 2 unreadable or unusable input.
User errors print one clear message and no traceback.
"""

from __future__ import annotations

import sys
import time
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from evfleet.errors import EvfleetError, InputError
from evfleet.problem import Objective, Problem, RechargePolicy
from evfleet.solution import Solution

app = typer.Typer(
    name="evfleet",
    help="Plan routes for electric delivery fleets, and check plans independently.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
if not out.is_terminal:
    out = Console(width=140)  # piped output: wide enough for the routes table
err = Console(stderr=True, soft_wrap=True)


class Recharge(StrEnum):
    full = "full"
    partial = "partial"


class Convention(StrEnum):
    hierarchical = "hierarchical"
    dimacs = "dimacs"


InstanceArg = Annotated[
    Path,
    typer.Argument(
        help="Instance file: Schneider .txt, WCCI .evrp, Montoya .xml, "
        "Solomon .vrptw, VRPLIB, or evfleet problem JSON."
    ),
]
RechargeOpt = Annotated[
    Recharge | None,
    typer.Option(help="Recharge policy for Schneider files (default full; partial = EVRPTW-PR)."),
]
ConventionOpt = Annotated[
    Convention | None,
    typer.Option(
        help="Solomon convention: hierarchical (vehicles, then distance) or dimacs "
        "(distance only, truncated to 0.1)."
    ),
]


def _fail(message: str) -> typer.Exit:
    err.print(Text(f"error: {message}", style="bold red"))
    return typer.Exit(2)


def _load(path: Path, recharge: Recharge | None, convention: Convention | None) -> Problem:
    from evfleet.io.instances import read_instance

    return read_instance(
        path,
        recharge=RechargePolicy(recharge.value) if recharge else None,
        convention=convention.value if convention else None,
    )


class _ProgressLine:
    """A live one-line status on a terminal (best objective, vehicles, elapsed time)."""

    def __init__(self, time_limit_s: float, objective: Objective) -> None:
        self.time_limit_s = time_limit_s
        self.objective = objective
        self.live: Live | None = None
        self.last = 0.0

    def __enter__(self) -> _ProgressLine:
        if err.is_terminal:
            self.live = Live(Text("starting..."), console=err, refresh_per_second=8, transient=True)
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)

    def __call__(self, p: object) -> None:
        from evfleet.routing.solve import Progress

        assert isinstance(p, Progress)
        now = time.monotonic()
        if self.live is None or now - self.last < 0.1:
            return
        self.last = now
        state = "best" if p.feasible else "current (infeasible)"
        self.live.update(
            Text(
                f"{state} {_objective_text(self.objective, p.objective)}  "
                f"vehicles {p.vehicles}  iteration {p.iteration}  "
                f"{p.elapsed_s:5.1f} s / {self.time_limit_s:g} s"
            )
        )


def _objective_text(objective: Objective, value: float) -> str:
    if objective is Objective.DRIVING_AND_CHARGING_TIME:
        return f"{value / 3600:.4f} h"
    return f"{value:.2f}"


def _routes_table(problem: Problem, solution: Solution, limit: int = 30) -> Table:
    from evfleet.checker import check

    report = check(problem, solution)
    names = problem.location_names()
    table = Table(title=f"{problem.name}: {len(solution.routes)} routes", show_lines=False)
    for col in ("#", "type", "stops", "chargers", "distance m", "duration s", "charged Wh"):
        table.add_column(
            col, justify="right" if col != "type" else "left", no_wrap=True, min_width=len(col)
        )
    table.add_column("visits", no_wrap=True, overflow="ellipsis", max_width=40)
    for k, (route, rr) in enumerate(zip(solution.routes, report.routes, strict=False)):
        if k >= limit:
            table.add_row("…", "", "", "", "", "", "", f"{len(solution.routes) - limit} more")
            break
        stops = [names[v.location] for v in route.visits]
        chargers = sum(1 for v in route.visits if problem.is_charger(v.location))
        shown = " ".join(stops)
        table.add_row(
            str(k),
            problem.vehicle_types[route.vehicle_type].name,
            str(len(stops) - chargers),
            str(chargers),
            f"{rr.distance_m:.2f}",
            f"{rr.duration_s:.1f}",
            f"{rr.energy_charged_wh:.1f}",
            shown,
        )
    return table


def _solve_and_report(
    problem: Problem,
    *,
    time_limit: float,
    seed: int,
    iterations: int | None,
    output: Path | None,
    show_routes: bool,
    workers: int | None = None,
) -> int:
    from evfleet.checker import check
    from evfleet.io.solution_json import write_solution
    from evfleet.routing.portfolio import solve_portfolio

    with _ProgressLine(time_limit, problem.objective) as progress:
        solution = solve_portfolio(
            problem,
            workers=workers,
            time_limit_s=time_limit,
            seed=seed,
            max_iterations=iterations,
            progress=progress,
        )
    report = check(problem, solution)
    if show_routes:
        out.print(_routes_table(problem, solution))
    stats = solution.stats
    out.print(
        f"[bold]{problem.name}[/bold]: {report.objective_text()}  "
        f"({int(stats.get('iterations', 0))} iterations, {stats.get('elapsed_s', 0):.1f} s, "
        f"seed {seed}, {int(stats.get('workers', 1))} worker(s))"
    )
    if output is not None:
        write_solution(solution, problem, output)
        out.print(f"solution written to {output}")
    if not report.feasible:
        out.print(report.format())
        return 1
    out.print("[green]feasible[/green] (checked independently)")
    return 0


@app.command()
def solve(
    instance: InstanceArg,
    time_limit: Annotated[float, typer.Option("--time-limit", help="Seconds to search.")] = 10.0,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same search).")] = 0,
    iterations: Annotated[
        int | None, typer.Option(help="Stop after this many iterations (exactly reproducible).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--out", help="Write the solution JSON here.")
    ] = None,
    recharge: RechargeOpt = None,
    convention: ConventionOpt = None,
    routes: Annotated[bool, typer.Option(help="Print a table of the routes.")] = False,
    workers: Annotated[
        int | None,
        typer.Option(help="Independent searches in parallel, best kept (default: all cores)."),
    ] = None,
) -> None:
    """Plan routes for INSTANCE and print the objective in the set's own convention."""
    if time_limit <= 0:
        raise _fail("--time-limit must be a positive number of seconds")
    if workers is not None and workers < 1:
        raise _fail("--workers must be at least 1")
    try:
        problem = _load(instance, recharge, convention)
        code = _solve_and_report(
            problem,
            time_limit=time_limit,
            seed=seed,
            iterations=iterations,
            output=output,
            show_routes=routes,
            workers=workers,
        )
    except EvfleetError as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"{exc.filename or instance}: {exc.strerror}") from None
    raise typer.Exit(code)


@app.command()
def check(
    instance: InstanceArg,
    solution: Annotated[Path, typer.Argument(help="Solution JSON (evfleet-solution/1).")],
    recharge: RechargeOpt = None,
    convention: ConventionOpt = None,
) -> None:
    """Recompute every route of SOLUTION from INSTANCE alone; print the objective and every
    violation. Exit 0 feasible, 1 infeasible, 2 unreadable input."""
    from evfleet.checker import check as check_solution
    from evfleet.io.solution_json import read_solution

    try:
        problem = _load(instance, recharge, convention)
        plan = read_solution(solution, problem)
    except InputError as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"{exc.filename or solution}: {exc.strerror}") from None
    report = check_solution(problem, plan)
    out.print(report.format(), markup=False, highlight=False)
    raise typer.Exit(0 if report.feasible else 1)


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port of the dashboard and API.")] = 8000,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    speedup: Annotated[
        float, typer.Option(help="Simulated s per wall s (60: a minute a second).")
    ] = 60.0,
    time_limit: Annotated[
        float, typer.Option("--time-limit", help="Seconds to plan the day.")
    ] = 20.0,
    stop_after: Annotated[
        float | None,
        typer.Option("--stop-after", help="Stop this many s after the vans set off."),
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Folder for the SQLite file (default: new).")
    ] = None,
) -> None:
    """Run the whole platform on this machine: load the bundled Munich day, plan it,
    dispatch it, drive it with the simulator and serve the dashboard at
    http://127.0.0.1:8000 (SQLite, HTTP telemetry: no external service)."""
    from evfleet.demo import DemoOptions, run_demo

    if speedup <= 0:
        raise _fail("--speedup must be > 0")
    if time_limit < 1:
        raise _fail("--time-limit must be at least 1 s")
    options = DemoOptions(
        host=host,
        port=port,
        speedup=speedup,
        time_limit_s=time_limit,
        stop_after_s=stop_after,
        data_dir=data_dir,
    )
    try:
        run_demo(options, say=out.print)
    except EvfleetError as exc:
        raise _fail(str(exc)) from None


@app.command()
def example(
    time_limit: Annotated[float, typer.Option("--time-limit", help="Seconds to search.")] = 20.0,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    output: Annotated[Path, typer.Option("--out", help="Folder for the outputs.")] = Path(
        "out/munich-day"
    ),
    workers: Annotated[
        int | None, typer.Option(help="Parallel searches (default: all cores).")
    ] = None,
) -> None:
    """Plan the bundled example day (Munich, 300 stops, 17 e-vans and 3 diesel vans, winter)
    and write its plan, manifests and HTML report into --out."""
    base = resources.files("evfleet") / "examples" / "munich-day"
    with (
        resources.as_file(base / "orders.csv") as orders,
        resources.as_file(base / "fleet.yaml") as fleet,
        resources.as_file(base / "chargers.csv") as chargers,
    ):
        out.print(
            "Example: a synthetic winter delivery day in Munich (orders.csv, fleet.yaml, "
            f"chargers.csv from {orders.parent})"
        )
        plan(
            orders,
            fleet=fleet,
            output=output,
            chargers=chargers,
            time_limit=time_limit,
            seed=seed,
            workers=workers,
        )


@app.command()
def plan(
    orders: Annotated[Path, typer.Argument(help="orders.csv (see docs/input-formats.md).")],
    fleet: Annotated[Path, typer.Option(help="fleet.yaml: depots, vans, shifts, prices.")],
    output: Annotated[Path, typer.Option("--out", help="Folder for the outputs.")],
    chargers: Annotated[
        Path | None, typer.Option(help="chargers.csv: public chargers off the depots.")
    ] = None,
    network: Annotated[
        str,
        typer.Option(help="Road network: great-circle, osm:FILE.pbf or osrm:URL."),
    ] = "great-circle",
    time_limit: Annotated[float, typer.Option("--time-limit", help="Seconds to search.")] = 30.0,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    workers: Annotated[
        int | None, typer.Option(help="Parallel searches (default: all cores).")
    ] = None,
    skip_invalid: Annotated[
        bool,
        typer.Option(help="Plan the good rows even when some rows are invalid (listed)."),
    ] = False,
) -> None:
    """Plan a delivery day from a dispatcher's files and write plan.json, plan.geojson,
    driver manifests and an offline HTML report into --out."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from evfleet.routing.solve import Progress as SearchProgress
    from evfleet.workflow import plan_day, read_day

    if time_limit <= 0:
        raise _fail("--time-limit must be a positive number of seconds")
    try:
        inputs = read_day(orders, fleet, chargers)
    except EvfleetError as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"{exc.filename}: {exc.strerror}") from None
    for w in inputs.warnings:
        err.print(Text(f"warning: {w}", style="yellow"))
    if inputs.errors:
        for e in inputs.errors:
            err.print(Text(f"error: {e}", style="red"))
        if not skip_invalid:
            raise _fail(
                f"{len(inputs.errors)} invalid row(s); fix them, or plan the valid rows "
                "with --skip-invalid"
            )
        err.print(f"skipping {len(inputs.errors)} invalid row(s)")
    assert inputs.day is not None
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[best]}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    with bar:
        task = bar.add_task("planning", total=time_limit, best="")

        def on_progress(p: SearchProgress) -> None:
            state = f"cost {p.objective:,.2f}" if p.feasible else "searching for a feasible plan"
            bar.update(
                task, completed=min(p.elapsed_s, time_limit), best=f"{state}, {p.vehicles} vans"
            )

        def on_stage(text: str) -> None:
            bar.update(task, description=text)
            if not err.is_terminal:
                err.print(text)

        try:
            result = plan_day(
                inputs.day,
                output,
                network=network,
                time_limit_s=time_limit,
                seed=seed,
                workers=workers,
                progress=on_progress,
                on_stage=on_stage,
            )
        except EvfleetError as exc:
            raise _fail(str(exc)) from None
    account, diesel = result.account, result.diesel
    out.print(
        f"[bold]{result.problem.name}[/bold]: {len(result.solution.routes)} routes, "
        f"{account.distance_m / 1000:,.1f} km, cost {account.cost.total:,.2f}, "
        f"{account.grid_energy_wh / 1000:,.1f} kWh from the grid, "
        f"{account.diesel_l:,.1f} l diesel, "
        f"{account.co2e_wtw_kg:,.1f} kg CO2e (all-diesel: {diesel.co2e_wtw_kg:,.1f} kg)"
    )
    for path in result.files:
        out.print(f"  {path}")
    if not result.report.feasible:
        out.print(result.report.format())
        raise typer.Exit(1)
    out.print("[green]feasible[/green] (checked independently)")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            envvar="EVFLEET_DATABASE_URL",
            help="sqlite:///./evfleet.db (default) or postgresql://user@host/db.",
        ),
    ] = None,
    mqtt_url: Annotated[
        str | None,
        typer.Option(
            "--mqtt-url",
            envvar="EVFLEET_MQTT_URL",
            help="Follow vans live from this broker (mqtt://user:pass@host:port).",
        ),
    ] = None,
    worker: Annotated[
        bool, typer.Option(help="Run the planning worker process beside the web process.")
    ] = True,
    allow_signup: Annotated[
        bool,
        typer.Option(
            envvar="EVFLEET_ALLOW_SIGNUP",
            help="Let POST /api/v1/organisations create organisations without credentials.",
        ),
    ] = False,
    bootstrap_email: Annotated[
        str | None,
        typer.Option(envvar="EVFLEET_BOOTSTRAP_EMAIL", help="Create this admin if missing."),
    ] = None,
    bootstrap_password: Annotated[
        str | None,
        typer.Option(envvar="EVFLEET_BOOTSTRAP_PASSWORD", help="Password of that admin."),
    ] = None,
    bootstrap_organisation: Annotated[
        str, typer.Option(help="Organisation of the bootstrap admin.")
    ] = "evfleet",
) -> None:
    """Serve the REST API (/api/v1, OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs)
    and run the planning worker; the database schema is upgraded at start-up."""
    from evfleet.api.server import serve as run_server
    from evfleet.api.settings import Settings

    if (bootstrap_email is None) != (bootstrap_password is None):
        raise _fail("--bootstrap-email and --bootstrap-password go together")
    if bootstrap_password is not None and len(bootstrap_password) < 10:
        raise _fail("--bootstrap-password needs at least 10 characters")
    if mqtt_url is not None:
        from evfleet.ingest.mqtt import parse_mqtt_url

        try:
            parse_mqtt_url(mqtt_url)
        except ValueError as exc:
            raise _fail(f"--mqtt-url: {exc}") from None
    settings = Settings.from_env(database_url=database_url, allow_signup=allow_signup or None)
    bootstrap = None
    if bootstrap_email is not None and bootstrap_password is not None:
        bootstrap = (bootstrap_organisation, bootstrap_email, bootstrap_password)
    try:
        run_server(
            settings,
            host=host,
            port=port,
            worker=worker,
            bootstrap=bootstrap,
            mqtt_url=mqtt_url,
        )
    except EvfleetError as exc:
        raise _fail(str(exc)) from None


@app.command()
def simulate(
    plan_file: Annotated[
        Path, typer.Option("--plan", help="Plan JSON (evfleet-plan/1), e.g. out/DAY/plan.json.")
    ],
    speedup: Annotated[
        float,
        typer.Option(help="Simulated s per wall s (60: a minute a second); 0: no waiting."),
    ] = 60.0,
    mqtt_url: Annotated[
        str | None, typer.Option("--mqtt-url", help="Publish to mqtt://host:port (QoS 1).")
    ] = None,
    http_url: Annotated[
        str | None, typer.Option("--http-url", help="POST batches to URL/api/v1/telemetry.")
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option("--api-key", envvar="EVFLEET_API_KEY", help="Bearer key for --http-url."),
    ] = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write JSON lines (one message each) here.")
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="No network, no waiting: JSON lines to --out or standard output."
        ),
    ] = False,
    org: Annotated[str, typer.Option(help="Organisation in the MQTT topics.")] = "evfleet",
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same stream).")] = 0,
    faults: Annotated[
        str | None,
        typer.Option(
            help="e.g. dropout=0.02,duplicate=0.05,reorder=0.05,low-battery=van-03 "
            "(also dropout-s, reorder-window, low-battery-soc)."
        ),
    ] = None,
    duration_s: Annotated[
        float | None,
        typer.Option("--duration-s", help="Simulated seconds to run (default: whole day)."),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            help="Simulated start: 2026-03-02T07:00+01:00, a date, or HH:MM today "
            "(default 07:00 today, local)."
        ),
    ] = None,
    interval_s: Annotated[
        float, typer.Option("--interval-s", help="One fix every this many simulated s per van.")
    ] = 10.0,
    gps_sigma_m: Annotated[
        float, typer.Option("--gps-sigma-m", help="GPS jitter while driving, m (1 sigma).")
    ] = 5.0,
    temperature_c: Annotated[
        float, typer.Option("--temperature-c", help="Mean outside temperature, °C.")
    ] = 10.0,
    plan_temperature_c: Annotated[
        float | None,
        typer.Option(
            "--plan-temperature-c",
            help="Temperature the plan's energies assume, °C (default: --temperature-c).",
        ),
    ] = None,
    vehicles: Annotated[
        Path | None,
        typer.Option(
            help='JSON: route number -> vehicle id, or {"vehicle_id": .., "api_key": ..}.'
        ),
    ] = None,
) -> None:
    """Drive every route of a plan with simulated vans and publish their telemetry (VSS 6.0)
    over MQTT, HTTP or as JSON lines, with GPS jitter, traffic, temperature and faults."""
    from dataclasses import replace

    from evfleet.simulator import (
        NoiseSettings,
        SimulationSettings,
        WeatherSettings,
        parse_faults,
        parse_start,
        plan_source,
        simulate_plan,
    )
    from evfleet.simulator.publish import (
        HttpPublisher,
        JsonLinesPublisher,
        MqttPublisher,
        Publisher,
        play,
    )
    from evfleet.simulator.sources import read_vehicle_map

    sinks = [s for s in (mqtt_url, http_url, out_file) if s is not None]
    if len(sinks) > 1:
        raise _fail("choose one of --mqtt-url, --http-url and --out")
    if not sinks and not dry_run:
        raise _fail("choose where to send: --mqtt-url, --http-url, --out FILE or --dry-run")
    if dry_run and (mqtt_url or http_url):
        raise _fail("--dry-run sends nothing over the network: drop --mqtt-url/--http-url")
    if http_url is not None and api_key is None and vehicles is None:
        raise _fail("--http-url needs --api-key (or per-vehicle keys in --vehicles)")
    if speedup < 0:
        raise _fail("--speedup must be >= 0")
    try:
        when = parse_start(start)
        ids, keys = read_vehicle_map(vehicles) if vehicles is not None else ({}, {})
        settings = SimulationSettings(
            interval_s=interval_s,
            seed=seed,
            noise=replace(NoiseSettings(), gps_sigma_m=gps_sigma_m),
            weather=WeatherSettings(mean_c=temperature_c, plan_c=plan_temperature_c),
            faults=parse_faults(faults),
            vehicle_ids=ids,
        )
        doc = plan_source(plan_file).load()
        sim = simulate_plan(doc, settings, start=when, duration_s=duration_s)
    except EvfleetError as exc:
        raise _fail(str(exc)) from None
    except ValueError as exc:
        raise _fail(str(exc)) from None
    sink: str
    try:
        publisher: Publisher
        if mqtt_url is not None:
            publisher = MqttPublisher(mqtt_url, org, client_id=f"evfleet-sim-{seed}")
            sink = f"{mqtt_url} (topics evfleet/{org}/vehicles/<van>/telemetry)"
        elif http_url is not None:
            key_for: str | dict[str, str]
            if keys:  # per-vehicle keys, --api-key for the vans without one
                key_for = {v: k for v in sim.vans if (k := keys.get(v, api_key)) is not None}
            else:
                assert api_key is not None
                key_for = api_key
            publisher = HttpPublisher(http_url, key_for)
            sink = f"{http_url.rstrip('/')}/api/v1/telemetry"
        else:
            publisher = JsonLinesPublisher(out_file)
            sink = str(out_file) if out_file is not None else "standard output"
        pace = 0.0 if dry_run else speedup
        err.print(
            f"simulating {len(sim.vans)} van(s) from {sim.start.isoformat()}: "
            f"{len(sim.deliveries)} messages to {sink}" + (f" at {pace:g}x" if pace > 0 else "")
        )
        try:
            stats = play(sim.deliveries, publisher, start_s=sim.start_s, speedup=pace)
        finally:
            publisher.close()
    except EvfleetError as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"{exc.filename or sink}: {exc.strerror}") from None
    err.print(f"sent {stats.messages} messages in {stats.batches} batch(es), {stats.wall_s:.1f} s")


@app.command()
def ingest(
    mqtt_url: Annotated[
        str,
        typer.Option(
            "--mqtt-url", envvar="EVFLEET_MQTT_URL", help="mqtt://[user:password@]host:port"
        ),
    ] = "mqtt://127.0.0.1:1883",
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            envvar="EVFLEET_DATABASE_URL",
            help="sqlite:///./evfleet.db (default) or postgresql://user@host/db.",
        ),
    ] = None,
    client_id: Annotated[
        str, typer.Option(help="MQTT client id (fixed: it names the persistent session).")
    ] = "evfleet-ingest",
    batch_size: Annotated[int, typer.Option(help="Messages per database transaction.")] = 1000,
    max_delay_ms: Annotated[
        int, typer.Option(help="Longest a message waits in the buffer, in ms.")
    ] = 100,
    retention_days: Annotated[
        int,
        typer.Option(envvar="EVFLEET_TELEMETRY_RETENTION_DAYS", help="Days of samples kept."),
    ] = 90,
) -> None:
    """Consume VSS telemetry from MQTT (evfleet/+/vehicles/+/telemetry, QoS 1, persistent
    session) into the database in batches; acknowledges each message after its commit."""
    import logging

    from evfleet.ingest.mqtt import MqttIngester, parse_mqtt_url
    from evfleet.ingest.writer import BatchWriter, TelemetryStore, VehicleDirectory
    from evfleet.store.db import DEFAULT_DATABASE_URL, Database

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        broker = parse_mqtt_url(mqtt_url)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    db = Database(database_url or DEFAULT_DATABASE_URL)
    db.migrate()
    store = TelemetryStore(db, retention_days=retention_days)
    writer = BatchWriter(
        store,
        directory=VehicleDirectory(db),
        batch_size=batch_size,
        max_delay_s=max_delay_ms / 1000,
    )
    err.print(f"ingesting {mqtt_url} into {db.engine.url.render_as_string()} (Ctrl-C stops)")
    MqttIngester(broker, writer, client_id=client_id).run_forever()
    db.dispose()
    err.print(
        f"stored {writer.totals.accepted}, duplicates {writer.totals.duplicates}, "
        f"dead letters {writer.totals.dead_letters}"
    )


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
