"""Reader for a dispatcher's orders file (``orders.csv``).

Columns (header names are matched case-insensitively, ignoring spaces and punctuation, so
``Weight (kg)`` reads as ``weight_kg``; a few aliases such as ``lat``/``lon`` are known):

============  ========  ==========================================================
column        required  meaning (unit)
============  ========  ==========================================================
id            yes       order id, unique in the file
latitude      yes       WGS 84 degrees, -90 to 90
longitude     yes       WGS 84 degrees, -180 to 180
parcels       no        number of parcels, a whole number >= 0 (default 1)
weight_kg     no        total weight in kg, >= 0 (default 0, with a warning if the
                        column is missing)
tw_start      no        earliest service start, local ``HH:MM`` (empty: none)
tw_end        no        latest service start, local ``HH:MM`` (empty: none)
service_s     no        service duration in seconds (empty: ``default_service_s``)
notes         no        free text for the driver
============  ========  ==========================================================

The file may be UTF-8 (with or without a byte-order mark), UTF-16 with a byte-order mark,
or Windows-1252 (read with a warning); delimited by ``,``, ``;``, tab or ``|`` (sniffed from
the header); with LF, CRLF or CR line ends; blank lines are skipped. With a delimiter other
than ``,``, numbers may use a decimal comma (``48,85``).

Every bad row is reported as a :class:`~evfleet.day.RowError` naming the file, line and
column, and every good row is kept: a reader returns both, and raises
:class:`~evfleet.day.InputErrors` listing every error only in strict mode.
"""

from __future__ import annotations

import math
from os import PathLike

from evfleet.day import INF, Order, RowError
from evfleet.io.csv_table import Column, CsvRecord, CsvResult, read_table

__all__ = ["ORDER_COLUMNS", "OrdersResult", "read_orders_csv"]


ORDER_COLUMNS: tuple[Column, ...] = (
    Column("id", True, ("order_id", "order", "reference", "ref")),
    Column("latitude", True, ("lat", "latitude_deg")),
    Column("longitude", True, ("lon", "lng", "long", "longitude_deg")),
    Column("parcels", False, ("parcel_count", "packages", "pieces")),
    Column("weight_kg", False, ("weight",)),
    Column("tw_start", False, ("time_window_start", "window_start", "tw_early")),
    Column("tw_end", False, ("time_window_end", "window_end", "tw_late")),
    Column("service_s", False, ("service", "service_time_s", "service_time")),
    Column("notes", False, ("note", "comment", "comments")),
)
"""The columns of ``orders.csv``, with the header aliases each accepts."""


class OrdersResult(CsvResult[Order]):
    """The orders read from a file: good ``rows``, every bad row in ``errors``."""


def read_orders_csv(
    path: str | PathLike[str],
    *,
    default_service_s: float = 180.0,
    strict: bool = False,
    decimal_comma: bool | None = None,
) -> OrdersResult:
    """Reads a dispatcher's ``orders.csv`` (columns and units in the module docstring).

    Empty ``service_s`` cells take ``default_service_s`` seconds. Each bad row becomes a
    :class:`~evfleet.day.RowError` (file, line, column, value, reason) and each good row an
    :class:`~evfleet.day.Order`; a repeated order id is an error on the later row.
    ``strict=True`` raises :class:`~evfleet.day.InputErrors` listing every error instead.
    ``decimal_comma``: ``None`` accepts ``48,85`` when the delimiter is not a comma.
    A file that cannot be read at all raises :class:`~evfleet.errors.InputError`.
    """
    if not (math.isfinite(default_service_s) and default_service_s >= 0):
        raise ValueError("default_service_s must be a finite number >= 0")
    table = read_table(path, ORDER_COLUMNS, what="orders", decimal_comma=decimal_comma)
    if not table.errors and "weight_kg" not in table.columns:
        table.warnings.append(
            RowError(
                table.path,
                table.header_line,
                None,
                None,
                'no "weight_kg" column: every order weighs 0 kg, so vehicle capacities '
                "will not limit the plan",
            )
        )
    orders: list[Order] = []
    errors = list(table.errors)
    seen: dict[str, int] = {}
    for record in table.records:
        order = _order(record, default_service_s) if not record.errors else None
        order_id = record.raw("id")
        if order_id:
            if order_id in seen:
                record.error("id", order_id, f"order id already used on line {seen[order_id]}")
                order = None
            else:
                seen[order_id] = record.line
        errors.extend(record.errors)
        if order is not None and not record.errors:
            orders.append(order)
    errors.sort(key=lambda e: e.line or 0)
    result = OrdersResult(
        path=table.path,
        rows=tuple(orders),
        errors=tuple(errors),
        warnings=tuple(table.warnings),
        delimiter=table.delimiter,
    )
    if strict:
        result.raise_for_errors()
    return result


def _order(record: CsvRecord, default_service_s: float) -> Order | None:
    order_id = record.text("id", required=True)
    latitude = record.number("latitude", minimum=-90.0, maximum=90.0)
    longitude = record.number("longitude", minimum=-180.0, maximum=180.0)
    if latitude == 0.0 and longitude == 0.0:
        record.error(
            "latitude",
            None,
            "latitude and longitude are both 0, in the Atlantic (a failed geocode?)",
        )
    parcels = record.integer("parcels", default=1, minimum=0)
    weight = record.number("weight_kg", default=0.0, minimum=0.0)
    early = record.clock("tw_start")
    late = record.clock("tw_end")
    if early is not None and late is not None and late < early:
        record.error(
            "tw_end",
            record.raw("tw_end"),
            f"expected a time no earlier than tw_start {record.raw('tw_start')}",
        )
    service = record.number("service_s", default=default_service_s, minimum=0.0)
    notes = record.text("notes")
    if record.errors:
        return None
    try:
        return Order(
            id=order_id,
            latitude_deg=latitude,
            longitude_deg=longitude,
            parcels=parcels,
            weight_kg=weight,
            tw_early_s=0.0 if early is None else early,
            tw_late_s=INF if late is None else late,
            service_s=service,
            notes=notes,
        )
    except ValueError as exc:  # a check of Order the column checks above did not make
        record.error(None, None, str(exc))
        return None
