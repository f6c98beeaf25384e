"""Reader for the charging sites a fleet may use off its depots (``chargers.csv``).

Columns (matched like ``orders.csv``'s: case, spaces and punctuation ignored):

=============  ========  ======================================================
column         required  meaning (unit)
=============  ========  ======================================================
id             yes       charger id, unique in the file
latitude       yes       WGS 84 degrees, -90 to 90
longitude      yes       WGS 84 degrees, -180 to 180
power_kw       yes       power of each connector in kW, > 0
price_per_kwh  yes       price in the fleet's currency per kWh, >= 0
connectors     no        vehicles that can charge at once, >= 1 (default 1)
hours          no        opening hours ``HH:MM-HH:MM`` or ``24/7`` (default 24/7)
public         no        ``yes`` or ``no`` (default yes)
name           no        a label for people
=============  ========  ======================================================

The file handling (encodings, delimiters, line ends, error reporting) is that of
:mod:`evfleet.io.orders_csv`.
"""

from __future__ import annotations

import math
from os import PathLike

from evfleet.day import ChargerSpec, RowError, parse_hours
from evfleet.io.csv_table import Column, CsvRecord, CsvResult, read_table

__all__ = ["CHARGER_COLUMNS", "MAX_POWER_KW", "ChargersResult", "read_chargers_csv"]

MAX_POWER_KW = 4000.0
"""Highest power accepted per connector, in kW (megawatt charging reaches 3.75 MW)."""

CHARGER_COLUMNS: tuple[Column, ...] = (
    Column("id", True, ("charger_id", "station_id", "ref")),
    Column("latitude", True, ("lat", "latitude_deg")),
    Column("longitude", True, ("lon", "lng", "long", "longitude_deg")),
    Column("power_kw", True, ("power", "kw", "max_power_kw")),
    Column("price_per_kwh", True, ("price", "price_kwh", "eur_per_kwh", "price_eur_kwh")),
    Column("connectors", False, ("points", "charge_points", "plugs")),
    Column("hours", False, ("opening_hours", "open", "opening_times")),
    Column("public", False, ("is_public", "access")),
    Column("name", False, ("label", "site", "location")),
)
"""The columns of ``chargers.csv``, with the header aliases each accepts."""


class ChargersResult(CsvResult[ChargerSpec]):
    """The chargers read from a file: good ``rows``, every bad row in ``errors``."""


def read_chargers_csv(
    path: str | PathLike[str],
    *,
    strict: bool = False,
    decimal_comma: bool | None = None,
) -> ChargersResult:
    """Reads a ``chargers.csv`` (columns and units in the module docstring).

    Each bad row becomes a :class:`~evfleet.day.RowError` and each good row a
    :class:`~evfleet.day.ChargerSpec` (power in W); a repeated id is an error on the later
    row. ``strict=True`` raises :class:`~evfleet.day.InputErrors` listing every error.
    ``decimal_comma``: ``None`` accepts ``0,59`` when the delimiter is not a comma.
    """
    table = read_table(path, CHARGER_COLUMNS, what="chargers", decimal_comma=decimal_comma)
    chargers: list[ChargerSpec] = []
    errors: list[RowError] = list(table.errors)
    seen: dict[str, int] = {}
    for record in table.records:
        charger = _charger(record) if not record.errors else None
        charger_id = record.raw("id")
        if charger_id:
            if charger_id in seen:
                record.error(
                    "id", charger_id, f"charger id already used on line {seen[charger_id]}"
                )
                charger = None
            else:
                seen[charger_id] = record.line
        errors.extend(record.errors)
        if charger is not None and not record.errors:
            chargers.append(charger)
    errors.sort(key=lambda e: e.line or 0)
    result = ChargersResult(
        path=table.path,
        rows=tuple(chargers),
        errors=tuple(errors),
        warnings=tuple(table.warnings),
        delimiter=table.delimiter,
    )
    if strict:
        result.raise_for_errors()
    return result


def _charger(record: CsvRecord) -> ChargerSpec | None:
    charger_id = record.text("id", required=True)
    latitude = record.number("latitude", minimum=-90.0, maximum=90.0)
    longitude = record.number("longitude", minimum=-180.0, maximum=180.0)
    if latitude == 0.0 and longitude == 0.0:
        record.error(
            "latitude",
            None,
            "latitude and longitude are both 0, in the Atlantic (a failed geocode?)",
        )
    power_kw = record.number("power_kw", minimum=0.0, exclusive_minimum=True)
    if power_kw > MAX_POWER_KW:
        record.error(
            "power_kw",
            record.raw("power_kw"),
            f"expected a power in kW, > 0 and at most {MAX_POWER_KW:g}",
            f"watts? {power_kw:g} W is {power_kw / 1000:g} kW",
        )
    price = record.number("price_per_kwh", minimum=0.0)
    connectors = record.integer("connectors", default=1, minimum=1)
    hours_text = record.raw("hours")
    open_s, close_s = 0.0, math.inf
    if hours_text:
        try:
            open_s, close_s = parse_hours(hours_text)
        except ValueError as exc:
            record.error("hours", hours_text, str(exc))
    public = record.boolean("public", default=True)
    name = record.text("name")
    if record.errors:
        return None
    try:
        return ChargerSpec(
            id=charger_id,
            latitude_deg=latitude,
            longitude_deg=longitude,
            power_w=power_kw * 1000.0,
            connectors=connectors,
            price_per_kwh=price,
            open_s=open_s,
            close_s=close_s,
            public=public,
            name=name,
        )
    except ValueError as exc:  # a check of ChargerSpec the column checks did not make
        record.error(None, None, str(exc))
        return None
