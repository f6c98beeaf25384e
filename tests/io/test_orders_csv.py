"""orders.csv reader: the example day, every error kind with its line and column, dialects."""

from __future__ import annotations

import csv
import importlib.util
import json
import math
from pathlib import Path

import jsonschema
import pytest

from evfleet.day import INF, InputErrors, Order, RowError, format_clock, parse_clock, parse_hours
from evfleet.errors import InputError
from evfleet.io.orders_csv import read_orders_csv

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "city-day"
SCHEMAS = ROOT / "docs" / "schemas"

HEADER = "id,latitude,longitude,parcels,weight_kg,tw_start,tw_end,service_s,notes"
GOOD = [
    "A1,48.137,11.575,2,3.5,09:00,12:00,150,",
    'A2,48.150,11.560,1,0.8,,,,"Hinterhof, 2. OG"',
    "A3,48.100,11.640,5,29.5,,10:30,300,Klingel: Schäfer",
]


def write(tmp_path: Path, text: str | bytes, name: str = "orders.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8", newline="")
    else:
        path.write_bytes(text)
    return path


def lines(*rows: str) -> str:
    return "\n".join(rows) + "\n"


def only_error(path: Path) -> RowError:
    result = read_orders_csv(path)
    assert len(result.errors) == 1, [str(e) for e in result.errors]
    return result.errors[0]


# --------------------------------------------------------------------------- the example


def test_example_orders_parse_without_errors_or_warnings() -> None:
    result = read_orders_csv(EXAMPLE / "orders.csv", strict=True)
    assert result.errors == ()
    assert result.warnings == ()
    orders = result.rows
    assert len(orders) == 300
    assert len({o.id for o in orders}) == 300
    windowed = [o for o in orders if o.has_time_window]
    assert len(windowed) == 120  # 40 %
    assert all(1 <= o.parcels <= 5 for o in orders)
    assert all(0.5 <= o.weight_kg <= 30.0 for o in orders)
    assert all(120 <= o.service_s <= 300 for o in orders)
    # inside Munich's bounding box
    assert all(48.06 <= o.latitude_deg <= 48.25 for o in orders)
    assert all(11.36 <= o.longitude_deg <= 11.73 for o in orders)
    weights = sorted(o.weight_kg for o in orders)
    assert weights[len(weights) // 2] < 8.0 < weights[-1]  # a long tail above the median
    assert any("Müller" in o.notes for o in orders)
    assert any('"' in o.notes and "," in o.notes for o in orders)


def test_example_rows_validate_against_the_json_schema() -> None:
    schema = json.loads((SCHEMAS / "orders.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    with (EXAMPLE / "orders.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    types = {"latitude": float, "longitude": float, "weight_kg": float, "service_s": float}
    for row in rows:
        doc: dict[str, object] = {}
        for key, text in row.items():
            if text == "":
                continue
            doc[key] = int(text) if key == "parcels" else types.get(key, str)(text)
        validator.validate(doc)
    bad = {"id": "x", "latitude": 91, "longitude": 11.5, "tw_start": "7.30", "colour": "red"}
    assert len(list(validator.iter_errors(bad))) == 3


def test_generator_reproduces_the_committed_files(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("city_day_generate", EXAMPLE / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    stats = module.generate(tmp_path)
    assert stats["stops"] == 300
    assert stats["time_window_share"] == pytest.approx(0.4)
    for name in ("orders.csv", "fleet.yaml", "chargers.csv"):
        assert (tmp_path / name).read_bytes() == (EXAMPLE / name).read_bytes(), name


# --------------------------------------------------------------------------- good rows


def test_good_rows_become_orders_with_units(tmp_path: Path) -> None:
    result = read_orders_csv(write(tmp_path, lines(HEADER, *GOOD)), default_service_s=200)
    assert result.ok and result.warnings == ()
    a1, a2, a3 = result.rows
    assert a1 == Order("A1", 48.137, 11.575, 2, 3.5, 9 * 3600.0, 12 * 3600.0, 150.0, "")
    assert a2.tw_early_s == 0.0 and a2.tw_late_s == INF and not a2.has_time_window
    assert a2.service_s == 200.0  # the default
    assert a2.notes == "Hinterhof, 2. OG"
    assert a3.tw_early_s == 0.0 and a3.tw_late_s == 10.5 * 3600 and a3.has_time_window
    assert a3.notes == "Klingel: Schäfer"


def test_optional_columns_may_be_absent(tmp_path: Path) -> None:
    result = read_orders_csv(write(tmp_path, lines("id,latitude,longitude", "B1,48.1,11.5")))
    assert result.errors == ()
    (order,) = result.rows
    assert (order.parcels, order.weight_kg, order.service_s) == (1, 0.0, 180.0)
    (warning,) = result.warnings
    assert warning.line == 1 and "weight_kg" in warning.reason


# --------------------------------------------------------------------------- each error kind


@pytest.mark.parametrize(
    ("cells", "column", "value", "reason"),
    [
        ("A9,91,11.5,1,1,,,,", "latitude", "91", "expected a number between -90 and 90"),
        ("A9,48.1,200,1,1,,,,", "longitude", "200", "expected a number between -180 and 180"),
        ('A9,"48,85",11.5,1,1,,,,', "latitude", "48,85", "expected a number between -90 and 90"),
        ("A9,north,11.5,1,1,,,,", "latitude", "north", "expected a number between -90 and 90"),
        ("A9,nan,11.5,1,1,,,,", "latitude", "nan", "expected a number between -90 and 90"),
        ("A9,,11.5,1,1,,,,", "latitude", None, "a value is required"),
        (",48.1,11.5,1,1,,,,", "id", None, "a value is required"),
        ("A9,48.1,11.5,2.5,1,,,,", "parcels", "2.5", "expected a whole number >= 0"),
        ("A9,48.1,11.5,-1,1,,,,", "parcels", "-1", "expected a whole number >= 0"),
        ("A9,48.1,11.5,1,-3,,,,", "weight_kg", "-3", "expected a number >= 0"),
        ("A9,48.1,11.5,1,1e999,,,,", "weight_kg", "1e999", "expected a number >= 0"),
        ("A9,48.1,11.5,1,1_000,,,,", "weight_kg", "1_000", "expected a number >= 0"),
        ("A9,48.1,11.5,1,1,7.30,,,", "tw_start", "7.30", "expected a time of day as HH:MM"),
        ("A9,48.1,11.5,1,1,,25:00,,", "tw_end", "25:00", "expected a time of day as HH:MM"),
        ("A9,48.1,11.5,1,1,,24:01,,", "tw_end", "24:01", "expected a time of day as HH:MM"),
        ("A9,48.1,11.5,1,1,14:00,10:00,,", "tw_end", "10:00", "no earlier than tw_start 14:00"),
        ("A9,48.1,11.5,1,1,,,-5,", "service_s", "-5", "expected a number >= 0"),
        ("A9,0,0,1,1,,,,", "latitude", None, "both 0"),
        ("A1,48.1,11.5,1,1,,,,", "id", "A1", "order id already used on line 2"),
    ],
)
def test_each_error_names_file_line_column_value_and_reason(
    tmp_path: Path, cells: str, column: str, value: str | None, reason: str
) -> None:
    path = write(tmp_path, lines(HEADER, GOOD[0], "", cells))
    result = read_orders_csv(path)
    assert [o.id for o in result.rows] == ["A1"]  # the good row stays
    (error,) = result.errors
    assert (error.path, error.line, error.column, error.value) == (str(path), 4, column, value)
    assert reason in error.reason
    text = str(error)
    assert text.startswith(f'{path}:4: column "{column}": ')
    if value is not None:
        assert f'got "{value}"' in text


def test_message_reads_like_the_spec(tmp_path: Path) -> None:
    rows = [f"A{k},48.1,11.5,1,1,,,," for k in range(2, 17)]
    path = write(tmp_path, lines(HEADER, *rows, 'A17,"48,85",2.35,1,1,,,,'))
    error = only_error(path)
    assert str(error) == (
        f'{path}:17: column "latitude": expected a number between -90 and 90, got "48,85" '
        "(use a decimal point: 48.85)"
    )


def test_every_error_in_a_row_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, lines(HEADER, "A9,91,500,x,-1,8h,9h,soon,"))
    result = read_orders_csv(path)
    assert result.rows == ()
    assert [e.column for e in result.errors] == [
        "latitude",
        "longitude",
        "parcels",
        "weight_kg",
        "tw_start",
        "tw_end",
        "service_s",
    ]
    assert {e.line for e in result.errors} == {2}


def test_mixed_good_and_bad_rows_keep_every_good_row(tmp_path: Path) -> None:
    rows = []
    for k in range(1, 13):
        rows.append(f"G{k},48.{k:03d},11.5,1,{k},,,," if k % 3 else f"B{k},48.1,11.5,1,heavy,,,,")
    path = write(tmp_path, lines(HEADER, *rows))
    result = read_orders_csv(path)
    assert [o.id for o in result.rows] == [f"G{k}" for k in range(1, 13) if k % 3]
    assert [e.line for e in result.errors] == [4, 7, 10, 13]
    assert all(e.column == "weight_kg" and e.value == "heavy" for e in result.errors)


def test_strict_mode_raises_listing_every_error(tmp_path: Path) -> None:
    path = write(tmp_path, lines(HEADER, GOOD[0], "X1,91,11.5,1,1,,,,", "X2,48.1,11.5,1,-2,,,,"))
    with pytest.raises(InputErrors) as info:
        read_orders_csv(path, strict=True)
    error = info.value
    assert isinstance(error, InputError)
    assert [e.line for e in error.errors] == [3, 4]
    assert str(error).splitlines() == [
        f"{path}: 2 errors:",
        f'  {path}:3: column "latitude": expected a number between -90 and 90, got "91"',
        f'  {path}:4: column "weight_kg": expected a number >= 0, got "-2"',
    ]
    assert error.path == str(path) and error.line == 3


def test_strict_mode_with_one_error_is_that_error(tmp_path: Path) -> None:
    path = write(tmp_path, lines(HEADER, "X1,91,11.5,1,1,,,,"))
    with pytest.raises(InputErrors) as info:
        read_orders_csv(path, strict=True)
    assert (
        str(info.value)
        == f'{path}:2: column "latitude": expected a number between -90 and 90, got "91"'
    )
    assert info.value.line == 2


def test_duplicate_ids_keep_the_first_row(tmp_path: Path) -> None:
    path = write(tmp_path, lines(HEADER, GOOD[0], GOOD[1], GOOD[0].replace("2,3.5", "4,9.0")))
    result = read_orders_csv(path)
    assert [o.id for o in result.rows] == ["A1", "A2"]
    assert result.rows[0].parcels == 2
    (error,) = result.errors
    assert (error.line, error.column, error.value) == (4, "id", "A1")


# --------------------------------------------------------------------------- header problems


def test_missing_required_columns_are_one_error_naming_them(tmp_path: Path) -> None:
    path = write(tmp_path, lines("id,lattitude,weight_kg", "A1,48.1,2"))
    result = read_orders_csv(path)
    assert result.rows == ()
    (error,) = result.errors
    assert error.line == 1 and error.column is None
    assert '"latitude", "longitude"' in error.reason
    assert '(a misspelling? "lattitude" for "latitude")' in str(error)


def test_unknown_columns_are_warnings_with_a_hint(tmp_path: Path) -> None:
    path = write(tmp_path, lines(HEADER + ",colour,servce_s", GOOD[0] + ",red,100"))
    result = read_orders_csv(path)
    assert result.errors == () and len(result.rows) == 1
    assert [(w.line, w.column) for w in result.warnings] == [(1, "colour"), (1, "servce_s")]
    assert 'did you mean "service_s"?' in str(result.warnings[1])
    assert result.rows[0].service_s == 150.0  # the misspelt column is not read


def test_header_case_whitespace_units_and_aliases(tmp_path: Path) -> None:
    header = " ID , Lat ,LONGITUDE, Parcels ,Weight (kg),TW Start,tw-end,Service (s),Notes"
    result = read_orders_csv(write(tmp_path, lines(header, *GOOD)))
    assert result.errors == () and result.warnings == ()
    assert [o.id for o in result.rows] == ["A1", "A2", "A3"]
    assert result.rows[0].weight_kg == 3.5 and result.rows[0].tw_late_s == 12 * 3600


def test_a_column_given_twice_is_an_error(tmp_path: Path) -> None:
    result = read_orders_csv(write(tmp_path, lines("id,lat,latitude,longitude", "A,1,2,3")))
    (error,) = result.errors
    assert error.column == "latitude" and "given twice" in error.reason


@pytest.mark.parametrize("text", ["", "\n\n", "  \r\n"])
def test_empty_file_is_an_error(tmp_path: Path, text: str) -> None:
    (error,) = read_orders_csv(write(tmp_path, text)).errors
    assert "empty file" in error.reason and "id, latitude, longitude" in error.reason


def test_header_only_gives_no_rows_and_no_errors(tmp_path: Path) -> None:
    result = read_orders_csv(write(tmp_path, lines(HEADER)))
    assert result.rows == () and result.errors == ()


def test_missing_file_raises_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read file"):
        read_orders_csv(tmp_path / "nope.csv")


# --------------------------------------------------------------------------- row shapes


def test_rows_of_the_wrong_width_are_errors(tmp_path: Path) -> None:
    path = write(tmp_path, lines(HEADER, "A1,48,85,11.5,1,1,,,,", "A2,48.1,11.5", GOOD[2]))
    result = read_orders_csv(path)
    assert [o.id for o in result.rows] == ["A3"]
    wide, narrow = result.errors
    assert (wide.line, wide.column) == (2, None)
    assert "10 values but the header has 9 columns" in wide.reason
    assert "decimal comma" in wide.hint
    assert (narrow.line, narrow.column) == (3, None) and "3 values" in narrow.reason


def test_unnamed_trailing_columns_are_ignored(tmp_path: Path) -> None:
    result = read_orders_csv(write(tmp_path, lines(HEADER + ",,", GOOD[0] + ",,", GOOD[1] + ",,")))
    assert result.errors == () and result.warnings == () and len(result.rows) == 2
    result = read_orders_csv(write(tmp_path, lines(HEADER + ",", GOOD[0] + ",oops")))
    assert len(result.rows) == 1
    (warning,) = result.warnings
    assert "column 10 has no header name" in warning.reason


def test_quoted_line_breaks_keep_line_numbers_right(tmp_path: Path) -> None:
    text = lines(HEADER, 'A1,48.1,11.5,1,1,,,,"first line\nsecond line"', "", "A2,91,11.5,1,1,,,,")
    result = read_orders_csv(write(tmp_path, text))
    assert result.rows[0].notes == "first line\nsecond line"
    (error,) = result.errors
    assert error.line == 5


def test_broken_quotes_are_errors_and_reading_goes_on(tmp_path: Path) -> None:
    text = lines(HEADER, 'A1,48.1,11.5,1,1,,,,"x"y', GOOD[1], 'A4,48.1,11.5,1,1,,,,"open', GOOD[2])
    result = read_orders_csv(write(tmp_path, text))
    assert [o.id for o in result.rows] == ["A2"]
    bad_quote, unclosed = result.errors
    assert bad_quote.line == 2 and "doubled" in bad_quote.hint
    assert unclosed.line == 4 and "never closed" in unclosed.reason


# --------------------------------------------------------------------------- dialects


REFERENCE = lines(HEADER, *GOOD)


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("bom", [False, True])
def test_delimiters_line_ends_and_bom_read_the_same(
    tmp_path: Path, delimiter: str, newline: str, bom: bool
) -> None:
    expected = read_orders_csv(write(tmp_path, REFERENCE, "reference.csv")).rows
    rows = list(csv.reader(REFERENCE.splitlines()))
    buffer = []
    for row in rows:
        buffer.append(delimiter.join(f'"{c}"' if ("," in c or delimiter in c) else c for c in row))
    text = newline.join([buffer[0], "", *buffer[1:], ""])
    data = text.encode("utf-8")
    if bom:
        data = b"\xef\xbb\xbf" + data
    result = read_orders_csv(write(tmp_path, data))
    assert result.delimiter == delimiter
    assert result.errors == () and result.warnings == ()
    assert result.rows == expected


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_numbers_count_blank_lines_with_any_line_end(tmp_path: Path, newline: str) -> None:
    text = newline.join([HEADER, "", GOOD[0], "", "", "A9,91,11.5,1,1,,,,", ""])
    (error,) = read_orders_csv(write(tmp_path, text)).errors
    assert error.line == 6


def test_semicolon_files_accept_decimal_commas(tmp_path: Path) -> None:
    text = lines("id;latitude;longitude;weight_kg;service_s", "A1;48,137;11,575;3,5;150")
    result = read_orders_csv(write(tmp_path, text))
    assert result.errors == ()
    (order,) = result.rows
    assert (order.latitude_deg, order.longitude_deg, order.weight_kg) == (48.137, 11.575, 3.5)
    strict = read_orders_csv(write(tmp_path, text), decimal_comma=False)
    assert [e.column for e in strict.errors] == ["latitude", "longitude", "weight_kg"]


def test_utf16_with_bom(tmp_path: Path) -> None:
    data = REFERENCE.replace(",", "\t").replace('"Hinterhof\t 2. OG"', '"Hinterhof, 2. OG"')
    result = read_orders_csv(write(tmp_path, data.encode("utf-16")))
    assert result.delimiter == "\t" and result.errors == ()
    assert [o.notes for o in result.rows][1:] == ["Hinterhof, 2. OG", "Klingel: Schäfer"]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_recognised(tmp_path: Path, encoding: str) -> None:
    result = read_orders_csv(write(tmp_path, lines(HEADER, *GOOD).encode(encoding)))
    assert result.errors == () and len(result.rows) == 3
    (warning,) = result.warnings
    assert encoding.upper() in warning.reason


def test_windows_1252_is_read_with_a_warning(tmp_path: Path) -> None:
    data = lines(HEADER, *GOOD).encode("cp1252")
    result = read_orders_csv(write(tmp_path, data))
    assert result.errors == ()
    assert result.rows[2].notes == "Klingel: Schäfer"
    (warning,) = result.warnings
    assert warning.line == 4 and "Windows-1252" in warning.reason


# --------------------------------------------------------------------------- day.py helpers


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("07:00", 25200.0),
        ("7:05", 25500.0),
        ("00:00", 0.0),
        ("24:00", 86400.0),
        ("12:30:15", 45015.0),
    ],
)
def test_parse_clock(text: str, seconds: float) -> None:
    assert parse_clock(text) == seconds


@pytest.mark.parametrize("text", ["7", "7.30", "24:01", "12:60", "-1:00", "noon", "1:2"])
def test_parse_clock_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        parse_clock(text)


def test_parse_hours_and_format_clock() -> None:
    assert parse_hours("24/7") == (0.0, INF)
    assert parse_hours("06:00 - 22:00") == (6 * 3600.0, 22 * 3600.0)
    assert parse_hours("00:00-24:00") == (0.0, 86400.0)
    with pytest.raises(ValueError, match="overnight"):
        parse_hours("22:00-06:00")
    with pytest.raises(ValueError, match="HH:MM-HH:MM"):
        parse_hours("9-17")
    assert format_clock(9.5 * 3600) == "09:30"
    assert format_clock(math.inf) == "-"


def test_order_checks_its_fields() -> None:
    with pytest.raises(ValueError, match="latitude"):
        Order("x", 95.0, 0.0)
    with pytest.raises(ValueError, match="time window"):
        Order("x", 48.0, 11.0, tw_early_s=7200.0, tw_late_s=3600.0)
