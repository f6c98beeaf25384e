"""chargers.csv reader: the example's public chargers, each error kind, dialects."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import jsonschema
import pytest

from evfleet.day import INF, ChargerSpec, InputErrors
from evfleet.io.chargers_csv import read_chargers_csv

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "city-day" / "chargers.csv"
SCHEMA = ROOT / "docs" / "schemas" / "chargers.schema.json"

HEADER = "id,latitude,longitude,power_kw,connectors,price_per_kwh,hours,public,name"
GOOD = [
    "c1,48.2040,11.6150,150,4,0.59,24/7,yes,Fröttmaning P+R",
    'c2,48.1505,11.4620,100,2,0.55,06:00-22:00,no,"Pasing, Nord"',
]


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "chargers.csv"
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8", newline="")
    else:
        path.write_bytes(text)
    return path


def lines(*rows: str) -> str:
    return "\n".join(rows) + "\n"


def test_example_chargers_parse_without_errors() -> None:
    result = read_chargers_csv(EXAMPLE, strict=True)
    assert result.errors == () and result.warnings == ()
    chargers = result.rows
    assert len(chargers) == 8
    assert all(c.public for c in chargers)
    assert all(50_000 <= c.power_w <= 150_000 for c in chargers)
    assert all(0.4 <= c.price_per_kwh <= 0.8 for c in chargers)
    assert sum(not c.always_open for c in chargers) == 2
    pasing = next(c for c in chargers if c.id == "muc-dc-03")
    assert (pasing.open_s, pasing.close_s) == (6 * 3600.0, 22 * 3600.0)
    assert pasing.name == "Pasing Bahnhof Nord"


def test_example_rows_validate_against_the_json_schema() -> None:
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    with EXAMPLE.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            doc: dict[str, object] = dict(row)
            for key in ("latitude", "longitude", "power_kw", "price_per_kwh"):
                doc[key] = float(row[key])
            doc["connectors"] = int(row["connectors"])
            doc["public"] = row["public"] == "yes"
            validator.validate(doc)
    bad = {"id": "x", "latitude": 48, "longitude": 11, "power_kw": 0, "price_per_kwh": 0.5}
    assert len(list(validator.iter_errors({**bad, "hours": "22:00-6"}))) == 2


def test_good_rows_in_si_units(tmp_path: Path) -> None:
    result = read_chargers_csv(write(tmp_path, lines(HEADER, *GOOD)))
    assert result.ok
    c1, c2 = result.rows
    assert c1 == ChargerSpec(
        "c1", 48.204, 11.615, 150_000.0, 4, 0.59, 0.0, INF, True, "Fröttmaning P+R"
    )
    assert c2.public is False and c2.name == "Pasing, Nord" and not c2.always_open


def test_defaults_for_optional_columns(tmp_path: Path) -> None:
    text = lines("id,lat,lon,power_kw,price_per_kwh", "c1,48.1,11.5,50,0.49")
    (charger,) = read_chargers_csv(write(tmp_path, text)).rows
    assert (charger.connectors, charger.public, charger.always_open) == (1, True, True)


@pytest.mark.parametrize(
    ("cells", "column", "value", "reason"),
    [
        ("c9,48.1,11.5,0,2,0.5,24/7,yes,", "power_kw", "0", "expected a number > 0"),
        ("c9,48.1,11.5,50000,2,0.5,24/7,yes,", "power_kw", "50000", "in kW"),
        ("c9,48.1,11.5,50,2,-0.1,24/7,yes,", "price_per_kwh", "-0.1", "expected a number >= 0"),
        ("c9,48.1,11.5,50,2,,24/7,yes,", "price_per_kwh", None, "a value is required"),
        ("c9,48.1,11.5,50,0,0.5,24/7,yes,", "connectors", "0", "expected a whole number >= 1"),
        ("c9,48.1,11.5,50,2,0.5,22:00-06:00,yes,", "hours", "22:00-06:00", "overnight"),
        ("c9,48.1,11.5,50,2,0.5,9-17,yes,", "hours", "9-17", "HH:MM-HH:MM or 24/7"),
        ("c9,48.1,11.5,50,2,0.5,24/7,maybe,", "public", "maybe", "expected yes or no"),
        ("c9,-91,11.5,50,2,0.5,24/7,yes,", "latitude", "-91", "between -90 and 90"),
        ("c1,48.1,11.5,50,2,0.5,24/7,yes,", "id", "c1", "charger id already used on line 2"),
    ],
)
def test_each_error_names_file_line_column_value_and_reason(
    tmp_path: Path, cells: str, column: str, value: str | None, reason: str
) -> None:
    path = write(tmp_path, lines(HEADER, GOOD[0], cells, GOOD[1]))
    result = read_chargers_csv(path)
    assert [c.id for c in result.rows] == ["c1", "c2"]  # good rows kept, in order
    (error,) = result.errors
    assert (error.line, error.column, error.value) == (3, column, value)
    assert reason in str(error)
    assert str(error).startswith(f'{path}:3: column "{column}": ')


def test_watts_get_a_hint(tmp_path: Path) -> None:
    path = write(tmp_path, lines(HEADER, "c9,48.1,11.5,50000,2,0.5,24/7,yes,"))
    (error,) = read_chargers_csv(path).errors
    assert error.hint == "watts? 50000 W is 50 kW"


def test_missing_columns_and_strict_mode(tmp_path: Path) -> None:
    path = write(tmp_path, lines("id,latitude,longitude,power", "c1,48.1,11.5,50"))
    with pytest.raises(InputErrors) as info:
        read_chargers_csv(path, strict=True)
    (error,) = info.value.errors
    assert error.line == 1 and '"price_per_kwh"' in error.reason
    assert str(info.value).startswith(f"{path}:1: missing required column(s)")


def test_semicolon_bom_crlf_and_decimal_commas(tmp_path: Path) -> None:
    text = "\r\n".join(
        [
            "ID;Latitude;Longitude;Power (kW);Price per kWh;Opening hours;Public",
            "c1;48,2040;11,6150;150;0,59;24/7;ja",
            "c2;48,1505;11,4620;50;0,49;07:00 - 21:00;nein",
            "",
        ]
    )
    result = read_chargers_csv(write(tmp_path, b"\xef\xbb\xbf" + text.encode("utf-8")))
    assert result.errors == () and result.warnings == ()
    c1, c2 = result.rows
    assert (c1.latitude_deg, c1.price_per_kwh, c1.public) == (48.204, 0.59, True)
    assert (c2.open_s, c2.close_s, c2.public) == (7 * 3600.0, 21 * 3600.0, False)
