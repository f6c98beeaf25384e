"""The dashboard and the customer tracking page in a real browser (issue 7, point 5).

Playwright drives Debian's Chromium (headless) against ``evfleet demo``: the Munich day
(300 orders) planned, dispatched and driven by the simulator at 240× over HTTP telemetry,
and the vans the plan left at home reporting from their depot, so that the map carries
300 stops and the whole fleet (20 vans). Each test takes screenshots into
``test-artifacts/browser/``.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from browser_support import (
    DEMO_DRIVER,
    DEMO_EMAIL,
    DEMO_PASSWORD,
    Demo,
    Shots,
    unavailable,
    wait_until,
)

try:
    from playwright.sync_api import expect
except ImportError:  # skipped on a developer machine, a failure in CI
    unavailable("the playwright package is not installed (pip install -e '.[dev]')")

pytestmark = pytest.mark.slow

MAP_BUDGET_S = 2.0
"""The issue's bound: with 300 stops and the whole fleet the map is usable within 2 s."""

TRACK_LABELS = {
    "received": "Order received",
    "planned": "Scheduled for delivery",
    "dispatched": "Scheduled for delivery",
    "out_for_delivery": "Out for delivery",
    "delivered": "Delivered",
    "failed": "Delivery attempt failed",
    "returned": "Returned to sender",
}
"""What the tracking page says for each order status (web/src/track.ts)."""

# Two good new orders and, on line 3 (the header is line 1), a latitude that is no number.
IMPORT_CSV = (
    "id,latitude,longitude,parcels,weight_kg,tw_start,tw_end,service_s,notes\n"
    "BROWSER-1,48.14120,11.56210,1,2.5,09:00,17:00,120,\n"
    "BROWSER-BAD,abc,11.58000,1,1.0,,,120,\n"
    "BROWSER-2,48.15230,11.59340,2,4.0,,,150,\n"
)
IMPORTED = ("BROWSER-1", "BROWSER-2")


# ----------------------------------------------------------------------------- helpers


def log_in(page: Any, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD) -> None:
    page.goto("/")
    page.get_by_test_id("login-email").fill(email)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("logout")).to_be_visible()
    expect(page.get_by_test_id("nav-map")).to_be_visible()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def dispatched_plan(demo: Demo) -> dict[str, Any]:
    headers = auth(demo.login())
    plans = demo.api.get("/plans", params={"limit": 50}, headers=headers).json()["items"]
    chosen = next(p for p in plans if p["status"] == "dispatched")
    plan: dict[str, Any] = demo.api.get(f"/plans/{chosen['id']}", headers=headers).json()
    return plan


def located_deliveries(routes: list[dict[str, Any]]) -> int:
    return sum(
        1
        for route in routes
        for stop in route["stops"]
        if stop["kind"] == "delivery" and stop["latitude_deg"] is not None
    )


def wait_for_map(page: Any, stops: int, vans: int) -> None:
    """Until ``stops`` delivery-stop markers and ``vans`` van markers are in the page."""
    page.locator("path.stop").nth(stops - 1).wait_for(state="attached")
    page.locator(".van-marker").nth(vans - 1).wait_for(state="attached")


def van_positions(page: Any) -> dict[str, tuple[float, float, str]]:
    """Each van marker's screen position (relative to the first depot marker, so that a
    pan of the map is no movement) and its badge text."""
    result: dict[str, list[Any]] = page.evaluate(
        """() => {
            const depot = document.querySelector("path.depot-marker");
            const origin = depot ? depot.getBoundingClientRect() : { x: 0, y: 0 };
            const out = {};
            for (const van of document.querySelectorAll(".van-marker")) {
                const box = van.getBoundingClientRect();
                out[van.dataset.vehicleId] = [
                    box.x - origin.x, box.y - origin.y, van.textContent.trim(),
                ];
            }
            return out;
        }"""
    )
    return {key: (value[0], value[1], value[2]) for key, value in result.items()}


# ----------------------------------------------------------------------------- tests


def test_log_in_with_a_wrong_then_the_right_password(
    page: Any, shot: Shots, page_errors: list[str]
) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"#/login$"))
    error = page.get_by_test_id("login-error")
    expect(error).to_be_hidden()
    shot("form")

    page.get_by_test_id("login-email").fill(DEMO_EMAIL)
    page.get_by_test_id("login-password").fill("not-the-password")
    page.get_by_test_id("login-submit").click()
    expect(error).to_be_visible()
    expect(error).to_have_text("Wrong e-mail address or password.")
    expect(page.get_by_test_id("logout")).to_have_count(0)
    shot("wrong-password")

    page.get_by_test_id("login-password").fill(DEMO_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("logout")).to_be_visible()
    expect(page).to_have_url(re.compile(r"#/map"))
    expect(page.locator(".who-label")).to_have_text(DEMO_EMAIL)
    expect(page.locator(".role")).to_have_text("admin")
    for name in ("map", "plans", "orders", "events"):
        expect(page.get_by_test_id(f"nav-{name}")).to_be_visible()
    expect(page.get_by_test_id("map")).to_be_visible()
    shot()

    page.get_by_test_id("logout").click()
    expect(page.get_by_test_id("login-email")).to_be_visible()
    expect(page).to_have_url(re.compile(r"#/login$"))
    assert page.evaluate("() => sessionStorage.length") == 0, "the token outlived the logout"
    assert not page_errors


def test_the_map_is_usable_within_2_s_with_300_stops_and_the_fleet(
    page: Any, demo: Demo, shot: Shots, page_errors: list[str], record_property: Any
) -> None:
    plan = dispatched_plan(demo)
    stops = located_deliveries(plan["routes"])
    assert stops >= 280, f"the demo plan has only {stops} located stops"
    assert demo.vans >= 20, f"only {demo.vans} vans report"
    # Logged in as the login form would (its token in sessionStorage), with an empty cache:
    # the clock runs from the navigation to the last stop and van marker in the page.
    token = json.dumps(demo.login())
    page.context.add_init_script(
        f"if (location.protocol === 'http:') sessionStorage.setItem('evfleet.token', {token});"
    )
    timings = {}
    for run in ("cold", "reload"):
        if run == "reload":
            page.goto("about:blank")
        started = time.monotonic()
        page.goto("/#/map")
        wait_for_map(page, stops, demo.vans)
        timings[run] = time.monotonic() - started
        record_property(f"map_ready_{run}_s", round(timings[run], 3))
    print(
        f"map with {stops} stops and {demo.vans} vans: "
        + ", ".join(f"{run} {elapsed:.2f} s" for run, elapsed in timings.items())
    )
    shot()
    slow = {run: round(t, 2) for run, t in timings.items() if t >= MAP_BUDGET_S}
    assert not slow, f"the map took longer than {MAP_BUDGET_S} s: {slow}"

    # Every stop of the plan is drawn once, with every van and every route.
    expect(page.locator("path.stop")).to_have_count(stops)
    expect(page.locator(".van-marker")).to_have_count(demo.vans)
    expect(page.locator("path.route-line")).to_have_count(len(plan["routes"]))
    assert page.locator("path.depot-marker").count() >= 1
    assert page.locator("path.charger-marker").count() >= 1
    info = page.locator(".plan-info")
    expect(info).to_contain_text(f"{len(plan['routes'])} routes, {stops} stops")
    expect(page.locator(".sidebar")).to_contain_text(f"({demo.vans} live)")

    # Usable: a stop opens its popup, and the map zooms in.
    page.locator("path.stop").first.dispatch_event("click")
    popup = page.locator(".leaflet-popup")
    expect(popup).to_be_visible()
    expect(popup).to_contain_text("Status")
    expect(popup).to_have_css("opacity", "1")  # faded in
    shot("popup")
    page.locator(".leaflet-popup-close-button").click()
    expect(popup).to_have_count(0)
    scale = page.locator(".leaflet-control-scale-line")
    before = scale.inner_text()
    page.locator(".leaflet-control-zoom-in").click()
    expect(scale).not_to_have_text(before)
    assert not page_errors


def test_a_van_moves_and_a_stop_turns_delivered(
    page: Any, demo: Demo, shot: Shots, page_errors: list[str]
) -> None:
    plan = dispatched_plan(demo)
    log_in(page)
    wait_for_map(page, located_deliveries(plan["routes"]), demo.vans)
    before = van_positions(page)
    delivered_before = page.locator("path.stop-delivered").count()
    shot("before")

    def moved() -> list[str]:
        now = van_positions(page)
        return [
            vid
            for vid, (x, y, text) in now.items()
            if vid in before
            and (abs(x - before[vid][0]) + abs(y - before[vid][1]) >= 1 or text != before[vid][2])
        ]

    vans = wait_until(moved, 30, page)
    assert vans, f"no van marker moved or changed its badge in 30 s: {before}"
    driven = {r["vehicle_id"] for r in plan["routes"]}
    assert set(vans) <= driven, "a van that drives no route moved"

    # A delivery pushed over the live socket recolours a stop without a reload.
    delivered = wait_until(
        lambda: page.locator("path.stop-delivered").count() > delivered_before, 60, page
    )
    count = page.locator("path.stop-delivered").count()
    shot()
    assert delivered, f"no stop turned delivered in 60 s ({delivered_before} before)"
    assert count > 0
    assert not page_errors


def test_an_alert_shows_in_the_events_feed(page: Any, shot: Shots, page_errors: list[str]) -> None:
    log_in(page)
    page.get_by_test_id("nav-events").click()
    expect(page).to_have_url(re.compile(r"#/events"))
    feed = page.get_by_test_id("events-feed")
    expect(feed).to_be_visible()
    expect(feed.get_by_test_id("event-item").first).to_be_visible()
    # One van has a weak battery (low energy); late-risk alerts come too.
    alert = feed.locator('[data-testid="event-item"][data-kind="alert-raised"]').first
    expect(alert).to_be_visible(timeout=90_000)
    kind = alert.get_attribute("data-alert-kind")
    assert kind in ("late-risk", "low-energy", "off-route"), kind
    expect(alert.locator(".event-kind")).to_have_text(kind.replace("-", " "))
    expect(alert.locator(".event-message")).not_to_be_empty()
    shot()
    assert not page_errors


def test_a_customer_tracking_link_shows_status_and_eta_only(
    browser: Any, demo: Demo, shot: Shots
) -> None:
    headers = auth(demo.login())
    order = demo.api.get("/orders", params={"limit": 1}, headers=headers).json()["items"][0]
    token = order["tracking_token"]
    assert token
    track = f"/track/{token}"
    before = demo.api.get(track).json()["status"]
    # Anyone with the link: a browser with no login at all.
    context = browser.new_context(viewport={"width": 480, "height": 800}, base_url=demo.base)
    try:
        page = context.new_page()
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.goto(f"/track/{token}")
        status = page.get_by_test_id("track-status")
        expect(status).not_to_have_text("Loading…")
        expect(page.get_by_test_id("track-eta")).not_to_be_empty()
        shot(page=page)

        after = demo.api.get(track).json()["status"]  # the simulation goes on meanwhile
        assert status.inner_text() in {TRACK_LABELS[before], TRACK_LABELS[after]}, (
            status.inner_text(),
            before,
            after,
        )
        eta = page.get_by_test_id("track-eta").inner_text()
        assert re.match(
            r"(Expected between \d\d:\d\d and \d\d:\d\d|Delivered at \d\d:\d\d"
            r"|Delivery planned for |The delivery time is not known yet)",
            eta,
        ), eta
        text = page.locator("body").inner_text()
        users = demo.api.get("/users", params={"limit": 100}, headers=headers).json()["items"]
        secrets = [
            "M-EF",  # every demo plate
            order["external_id"],
            order.get("notes") or "",
            *(u["email"] for u in users),
            *(u["name"] for u in users if u["name"]),
        ]
        leaked = [s for s in secrets if s and s in text]
        assert not leaked, f"the tracking page shows {leaked}: {text!r}"
        assert not re.search(r"\d+\.\d{3,}", text), f"a position on the page: {text!r}"
        # It reads its own answer and nothing else of the API.
        api_calls = [u for u in requested if "/api/" in u]
        assert api_calls and all(f"/api/v1/track/{token}" in u for u in api_calls), api_calls

        page.goto("/track/not-a-known-tracking-token-0000")
        expect(page.get_by_test_id("track-status")).to_have_text("This tracking link is not known.")
        shot("unknown-link", page=page)
    finally:
        context.close()


def test_a_driver_sees_only_their_own_route(
    page: Any, demo: Demo, shot: Shots, page_errors: list[str]
) -> None:
    headers = auth(demo.login(DEMO_DRIVER))
    routes = demo.api.get("/routes", params={"limit": 100}, headers=headers).json()["items"]
    assert len(routes) == 1, "the demo assigns its driver route 1"
    stops = located_deliveries(routes)

    log_in(page, DEMO_DRIVER)
    expect(page.locator(".role")).to_have_text("driver")
    expect(page.locator("path.route-line")).to_have_count(1)
    expect(page.locator("path.stop")).to_have_count(stops)
    van = page.locator(".van-marker")
    expect(van).to_have_count(1)
    expect(van).to_have_attribute("data-vehicle-id", routes[0]["vehicle_id"])
    expect(page.get_by_test_id("nav-orders")).to_have_count(0)
    expect(page.get_by_test_id("nav-plans")).to_have_text("My route")
    expect(page.locator(".plan-select")).to_have_count(0)
    shot()

    # The orders page is not the driver's: the hash route falls back to the map.
    page.goto("/#/orders")
    expect(page).to_have_url(re.compile(r"#/map$"))
    expect(page.get_by_test_id("orders-import-file")).to_have_count(0)
    page.get_by_test_id("nav-plans").click()
    expect(page.get_by_test_id("route-row")).to_have_count(1)
    expect(page.get_by_test_id("plan-button")).to_have_count(0)
    shot("my-route")
    assert not page_errors


def test_import_orders_reports_created_orders_and_the_bad_row(
    page: Any, tmp_path: Path, shot: Shots, page_errors: list[str]
) -> None:
    csv = tmp_path / "browser-orders.csv"
    csv.write_text(IMPORT_CSV, encoding="utf-8")
    log_in(page)
    page.get_by_test_id("nav-orders").click()
    report = page.get_by_test_id("orders-import-report")

    # All or nothing by default: the bad row stops the whole file.
    page.get_by_test_id("orders-import-file").set_input_files(str(csv))
    page.get_by_test_id("orders-import-submit").click()
    expect(report).to_be_visible()
    expect(report).to_contain_text("nothing was imported")
    bad = report.locator('tr.import-error[data-line="3"][data-field="latitude"]')
    expect(bad).to_have_count(1)
    shot("all-or-nothing")

    # With "import the good rows", the two good orders are created.
    page.get_by_label("Import the good rows even if others are bad").check()
    page.get_by_test_id("orders-import-file").set_input_files(str(csv))
    page.get_by_test_id("orders-import-submit").click()
    expect(report.locator('[data-count="created"] strong')).to_have_text("2")
    expect(report.locator('[data-count="rejected"] strong')).to_have_text("1")
    expect(bad).to_have_count(1)
    expect(bad.locator("td").nth(0)).to_have_text("3")
    expect(bad.locator("td").nth(1)).to_have_text("latitude")
    expect(bad).to_contain_text("abc")
    table = page.locator("table.orders-table")
    for external_id in IMPORTED:
        row = table.locator("tr", has_text=external_id)
        expect(row).to_have_count(1)
        expect(row.locator(".status")).to_have_text("received")
    expect(table.locator("tr", has_text="BROWSER-BAD")).to_have_count(0)
    shot()
    assert not page_errors


def test_plan_the_received_orders(
    page: Any, demo: Demo, shot: Shots, page_errors: list[str]
) -> None:
    headers = auth(demo.login())
    # The orders of the import test (importing them again changes nothing).
    imported = demo.api.post(
        "/orders/import",
        params={"partial": "true"},
        files={"file": ("browser-orders.csv", IMPORT_CSV.encode(), "text/csv")},
        headers=headers,
    )
    assert imported.status_code == 200, imported.text
    received = demo.api.get(
        "/orders", params={"status": "received", "limit": 100}, headers=headers
    ).json()
    assert sorted(o["external_id"] for o in received["items"]) == list(IMPORTED)

    log_in(page)
    page.get_by_test_id("nav-plans").click()
    page.get_by_label("Time limit in seconds").fill("3")
    page.get_by_test_id("plan-button").click()
    progress = page.get_by_test_id("plan-progress")
    expect(progress).to_be_visible()
    seen: list[tuple[str | None, float]] = []

    def done() -> bool:
        seen.append(
            (
                progress.get_attribute("data-status"),
                float(progress.get_attribute("aria-valuenow") or 0),
            )
        )
        return page.get_by_test_id("plan-done").count() > 0

    assert wait_until(done, 60, page, every_ms=100), f"planning did not finish: {seen[-5:]}"
    shot("done")
    values = [value for status, value in seen if status == "running"]
    assert any(0 < value < 100 for value in values), f"the progress bar never moved: {seen}"
    expect(progress).to_have_attribute("data-status", "succeeded")
    expect(progress).to_have_attribute("aria-valuenow", "100")

    page.get_by_test_id("plan-done").click()
    expect(page).to_have_url(re.compile(r"#/plans/[0-9a-f-]{36}$"))
    kpis = page.get_by_test_id("plan-kpis")
    expect(kpis).to_be_visible()
    stops_card = kpis.locator(".kpi").filter(has=page.get_by_text("Stops", exact=True))
    expect(stops_card.locator(".kpi-value")).to_have_text("2")
    rows = page.get_by_test_id("route-row")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 1
    for k in range(rows.count()):
        expect(rows.nth(k).get_by_test_id("route-chart")).to_have_count(1)
        expect(rows.nth(k).get_by_test_id("route-timeline")).to_be_visible()
    expect(page.get_by_test_id("dispatch-button")).to_be_visible()
    chart = rows.first.get_by_test_id("route-chart")
    chart.scroll_into_view_if_needed()
    painted = wait_until(
        lambda: chart.evaluate(
            """canvas => {
                const data = canvas.getContext("2d")
                    .getImageData(0, 0, canvas.width, canvas.height).data;
                let n = 0;
                for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
                return n;
            }"""
        ),
        10,
        page,
    )
    shot()
    assert painted, "the state-of-charge chart stayed blank"
    assert not page_errors
