"""Report adapters: a checked, accounted plan written out as files.

* :mod:`evfleet.report.plan_json`: the plan as JSON (format ``evfleet-plan/1``, with a
  published JSON Schema);
* :mod:`evfleet.report.geojson`: routes, stops and depots as a GeoJSON FeatureCollection;
* :mod:`evfleet.report.manifest`: one CSV per route for the driver;
* :mod:`evfleet.report.html_report`: one self-contained, offline HTML page with a map,
  state-of-charge charts, KPI cards and tables.

Each takes the problem, the solution, the checker's report (:func:`evfleet.checker.check`)
and, where it shows money, energy or CO2e, the account and its all-diesel counterfactual
(:func:`plan_accounts` makes all three consistently). The functions return text or
dictionaries; the ``write_*`` wrappers write files. Real-world problems use ``x`` =
longitude and ``y`` = latitude in degrees, and times in seconds since local midnight.
"""

from evfleet.report._common import Geometry, plan_accounts, route_geometries
from evfleet.report.geojson import plan_to_geojson, plan_to_geojson_text, write_geojson
from evfleet.report.html_report import html_report, write_html_report
from evfleet.report.manifest import manifest_csv, route_manifests, write_manifests
from evfleet.report.plan_json import plan_schema, plan_to_dict, plan_to_json, write_plan_json

__all__ = [
    "Geometry",
    "html_report",
    "manifest_csv",
    "plan_accounts",
    "plan_schema",
    "plan_to_dict",
    "plan_to_geojson",
    "plan_to_geojson_text",
    "plan_to_json",
    "route_geometries",
    "route_manifests",
    "write_geojson",
    "write_html_report",
    "write_manifests",
    "write_plan_json",
]
