"""The offline HTML report: well-formed, no network references, map, charts and KPIs."""

from __future__ import annotations

import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from report_fixture import Plan, big_plan, electric_route_count, road_geometry

from evfleet.report import html_report, write_html_report

CHROMIUM = Path("/usr/bin/chromium")
VOID = {"meta", "link", "br", "hr", "img", "input", "wbr", "col", "source", "area", "base"}
SVG_SELF_CLOSING = {"polyline", "polygon", "circle", "rect", "line", "path"}


class Structure(HTMLParser):
    """Checks that every element is closed in order; collects tags and attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID and tag not in SVG_SELF_CLOSING:
            self.errors.append(f"unexpected self-closing <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(text: str) -> Structure:
    parser = Structure()
    parser.feed(text)
    parser.close()
    return parser


def classes(parser: Structure, tag: str, cls: str) -> int:
    return sum(
        1 for t, attrs in parser.tags if t == tag and cls in (attrs.get("class") or "").split()
    )


@pytest.fixture(scope="module")
def page(plan: Plan) -> str:
    return html_report(
        plan.problem,
        plan.solution,
        plan.report,
        plan.account,
        diesel=plan.diesel,
        geometry=road_geometry(plan),
        reserve_soc=0.15,
    )


def test_well_formed(page: str) -> None:
    parser = parse(page)
    assert parser.errors == []
    assert parser.stack == []
    assert page.startswith("<!DOCTYPE html>")
    assert ("meta", {"charset": "utf-8"}) in parser.tags


def test_no_network_references(page: str) -> None:
    parser = parse(page)
    assert "http://" not in page and "https://" not in page
    for tag, attrs in parser.tags:
        assert "src" not in attrs, tag
        href = attrs.get("href") or attrs.get("xlink:href")
        assert href is None or href.startswith("#"), (tag, href)
        assert tag not in ("link", "img", "iframe", "object", "embed"), tag
    assert "url(" not in page and "@import" not in page and "fetch(" not in page


def test_one_map_and_one_soc_chart_per_electric_route(plan: Plan, page: str) -> None:
    parser = parse(page)
    assert sum(1 for t, _ in parser.tags if t == "svg") == 1 + electric_route_count(plan)
    assert classes(parser, "svg", "map") == 1
    assert classes(parser, "svg", "soc-chart") == electric_route_count(plan) == 1
    visits = [v for r in plan.solution.routes for v in r.visits]
    chargers = [v for v in visits if plan.problem.is_charger(v.location)]
    assert classes(parser, "g", "stop") == plan.problem.num_clients
    assert classes(parser, "g", "charge") == len(chargers)
    assert classes(parser, "g", "depot") == plan.problem.num_depots
    assert classes(parser, "polyline", "route-line") == 2
    assert classes(parser, "g", "scale") == 1
    assert classes(parser, "line", "reserve") == 1
    assert classes(parser, "g", "charge-step") == len(chargers)
    assert "2 km" in page or "5 km" in page or "1 km" in page  # the scale bar's label


def test_kpi_numbers_are_shown(plan: Plan, page: str) -> None:
    acc = plan.account
    per_parcel = acc.co2e_wtw_per_parcel_kg
    assert per_parcel is not None
    text = "".join(parse(page).text)
    for number in (
        f"{acc.cost.total:,.2f} EUR",
        f"{acc.distance_m / 1000:,.1f} km",
        f"{(acc.energy_charged_wh + acc.energy_depot_wh) / 1000:,.1f} kWh",
        f"{acc.diesel_l:,.1f} l",
        f"{acc.co2e_wtw_kg:,.1f} kg",
        f"{per_parcel * 1000:,.0f} g",
        f"{plan.diesel.co2e_wtw_kg - acc.co2e_wtw_kg:,.1f} kg saved",
    ):
        assert number in text, number
    for route in plan.account.routes:
        assert f"{route.cost.total:,.2f}" in text


def test_strings_are_escaped(plan: Plan, page: str) -> None:
    assert plan.problem.vehicle_types[0].name == "eVan 35 <kWh>"
    assert "eVan 35 &lt;kWh&gt;" in page
    assert "<kWh>" not in page
    assert "eVan 35 <kWh>" in "".join(parse(page).text)


def test_without_account_or_geometry(plan: Plan, tmp_path: Path) -> None:
    path = tmp_path / "plain.html"
    write_html_report(plan.problem, plan.solution, plan.report, None, path, title="Plain & simple")
    text = path.read_text("utf-8")
    parser = parse(text)
    assert parser.errors == []
    assert "<title>Plain &amp; simple</title>" in text
    assert classes(parser, "svg", "map") == 1
    assert classes(parser, "line", "reserve") == 0
    assert "EUR" not in text
    with pytest.raises(ValueError, match="reserve_soc"):
        html_report(plan.problem, plan.solution, plan.report, None, reserve_soc=15)


def test_a_300_stop_plan_stays_small() -> None:
    big, geometry = big_plan()
    assert big.report.feasible
    text = html_report(
        big.problem, big.solution, big.report, big.account, diesel=big.diesel, geometry=geometry
    )
    assert len(text.encode("utf-8")) < 2_000_000
    parser = parse(text)
    assert parser.errors == []
    assert classes(parser, "g", "stop") == 300
    assert classes(parser, "svg", "soc-chart") == len(big.solution.routes)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")
def test_renders_in_headless_chromium(page: str, tmp_path: Path) -> None:
    html_path = tmp_path / "plan.html"
    html_path.write_text(page, encoding="utf-8")
    png = tmp_path / "plan.png"
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={png}",
        "--window-size=1280,2000",
        html_path.as_uri(),
    ]
    subprocess.run(command, capture_output=True, timeout=120, check=False)
    assert png.exists() and png.stat().st_size > 20_000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
