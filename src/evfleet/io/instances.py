"""One entry point for every instance format, and the best-known values beside the files.

:func:`detect_format` tells the format from the extension and a look at the content;
:func:`read_instance` reads any supported file into a :class:`~evfleet.problem.Problem`;
:func:`bks_for` finds the matching row of the ``bks.csv`` that sits beside a benchmark file.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from evfleet.errors import InputError
from evfleet.problem import Problem, RechargePolicy

__all__ = ["FORMATS", "BestKnown", "bks_for", "detect_format", "read_instance"]

FORMATS = ("schneider", "wcci", "montoya", "solomon", "vrplib", "json")
"""The formats :func:`read_instance` reads."""

_SNIFF_BYTES = 4096
_HOUR = 3600.0


def _head(path: Path) -> str:
    """The first few KB of the file, as text (undecodable bytes replaced)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(_SNIFF_BYTES)
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", path=str(path)) from exc
    return data.decode("utf-8", errors="replace").lstrip("\ufeff")


def _header_keys(text: str) -> dict[str, str]:
    """``KEY : value`` lines of a TSPLIB-like head, keys upper-cased."""
    keys: dict[str, str] = {}
    for line in text.splitlines():
        key, colon, value = line.partition(":")
        if colon and "_SECTION" not in key:
            keys[key.strip().upper()] = value.strip()
    return keys


def _sniff(text: str) -> str | None:
    """The format that the start of a file looks like, if any."""
    stripped = text.lstrip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return None
    if stripped.startswith("{"):
        return "json"
    if stripped.startswith("<"):
        return "montoya" if "<instance" in text else None
    if lines[0].split()[:2] == ["StringID", "Type"]:
        return "schneider"
    if len(lines) >= 3 and "VEHICLE" in lines[1] and "NUMBER" in lines[2]:
        return "vrplib"  # Solomon's original text layout, read through vrplib
    keys = _header_keys(text)
    kind = keys.get("TYPE", "").upper()
    if kind == "EVRP" or "ENERGY_CAPACITY" in keys:
        return "wcci"
    if kind in ("CVRPTW", "VRPTW") and ("SCALE" in keys or "SERVICE_TIME" in keys):
        return "solomon"  # LKH-3 layout
    if "TYPE" in keys or "DIMENSION" in keys or "_SECTION" in text:
        return "vrplib"
    return None


def detect_format(path: str | PathLike[str]) -> str:
    """The format of the instance file at ``path``: one of :data:`FORMATS`.

    Decides by the content where it is recognisable (a Schneider header, a VRP-REP
    ``<instance>``, TSPLIB-like keys, JSON), else by the extension (``.evrp`` WCCI, ``.xml``
    Montoya, ``.vrptw`` Solomon/LKH-3, ``.json``, ``.vrp`` VRPLIB).
    Raises :class:`~evfleet.errors.InputError` when the file is empty or unrecognised.
    """
    path = Path(path)
    head = _head(path)
    if not head.strip():
        raise InputError("empty file: cannot tell its format", path=str(path))
    sniffed = _sniff(head)
    by_extension = {
        ".evrp": "wcci",
        ".xml": "montoya",
        ".vrptw": "solomon",
        ".json": "json",
        ".vrp": "vrplib",
    }.get(path.suffix.lower())
    if sniffed is not None:
        return sniffed
    if by_extension is not None:
        return by_extension  # the reader reports what is wrong, with line numbers
    raise InputError(
        "unknown format: expected a Schneider .txt, WCCI .evrp, Montoya .xml, "
        "Solomon/LKH-3 .vrptw, VRPLIB .vrp or evfleet .json file",
        path=str(path),
        line=1,
    )


def read_instance(
    path: str | PathLike[str],
    *,
    format: str | None = None,
    recharge: RechargePolicy | str | None = None,
    convention: str | None = None,
) -> Problem:
    """Reads an instance file of any supported format (see :func:`detect_format`).

    ``recharge`` applies to Schneider files (``full`` or ``partial``; default full) and
    ``convention`` to Solomon/LKH-3 files (``hierarchical`` or ``dimacs``; default
    hierarchical); giving one for a format whose policy is fixed otherwise raises
    :class:`ValueError`. Raises :class:`~evfleet.errors.InputError` for unreadable files
    and an unknown ``format``.
    """
    path = Path(path)
    if format is None:
        format = detect_format(path)
    if format not in FORMATS:
        raise InputError(
            f"unknown format {format!r}; expected one of {', '.join(FORMATS)}", path=str(path)
        )
    policy = None if recharge is None else RechargePolicy(recharge)
    fixed = {"wcci": RechargePolicy.FULL, "montoya": RechargePolicy.PARTIAL}
    if policy is not None and format != "schneider" and fixed.get(format) != policy:
        raise ValueError(f"recharge={policy.value!r} does not apply to {format} files")
    if convention is not None and format != "solomon":
        raise ValueError(f"convention={convention!r} applies to Solomon/LKH-3 files only")

    if format == "schneider":
        from evfleet.io.schneider import read_schneider

        return read_schneider(path, recharge=policy or RechargePolicy.FULL)
    if format == "wcci":
        from evfleet.io.wcci import read_wcci

        return read_wcci(path)
    if format == "montoya":
        from evfleet.io.montoya import read_montoya

        return read_montoya(path)
    if format == "solomon":
        from evfleet.io.solomon import read_solomon

        return read_solomon(path, convention=convention or "hierarchical")
    if format == "vrplib":
        from evfleet.io.vrplib_reader import read_vrplib

        return read_vrplib(path)
    from evfleet.io.problem_json import read_problem_json

    return read_problem_json(path)


@dataclass(frozen=True)
class BestKnown:
    """A best-known value from a set's ``bks.csv``.

    ``cost`` is in the units evfleet reads the instance in: the set's own units, except for
    Montoya, where the listed hours become seconds (``listed_cost`` keeps the value as
    printed). ``vehicles`` is the number of routes of that solution, when listed.
    """

    instance: str
    cost: float
    vehicles: int | None
    objective: str
    listed_cost: float | None = None
    source: str = ""
    notes: str = ""


def _instance_key(path: Path, format: str) -> str:
    """The instance name that ``bks.csv`` uses for ``path``."""
    if format == "solomon":
        return path.name.split(".")[0]  # C101.100.10.vrptw -> C101
    return path.stem


def _wanted(
    format: str, objective: str, recharge: RechargePolicy | None, convention: str | None
) -> bool:
    text = objective.lower()
    if format == "schneider":
        policy = recharge or RechargePolicy.FULL
        return ("partial" in text) == (policy is RechargePolicy.PARTIAL)
    if format == "solomon":
        if (convention or "hierarchical") == "hierarchical":
            return text.startswith("hierarchical")
        return text.startswith("distance only")
    return True


def bks_for(
    path: str | PathLike[str],
    *,
    recharge: RechargePolicy | str | None = None,
    convention: str | None = None,
) -> BestKnown | None:
    """The best-known value for the instance at ``path`` from ``bks.csv`` beside it.

    Schneider files have a full-recharge and a partial-recharge (EVRPTW-PR) row, picked by
    ``recharge`` (default full); Solomon files a hierarchical and a distance-only (DIMACS)
    row, picked by ``convention`` (default hierarchical). ``None`` when there is no
    ``bks.csv`` or no matching row. Raises :class:`~evfleet.errors.InputError` when the
    ``bks.csv`` is malformed.
    """
    path = Path(path)
    table = path.with_name("bks.csv")
    if not table.is_file():
        return None
    format = detect_format(path)
    if convention is not None and convention not in ("hierarchical", "dimacs"):
        raise ValueError(f"unknown convention {convention!r}; expected hierarchical or dimacs")
    policy = None if recharge is None else RechargePolicy(recharge)
    key = _instance_key(path, format)
    try:
        with table.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            rows = [(reader.line_num, row) for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"cannot read best-known values: {exc}", path=str(table)) from exc
    for lineno, row in rows:
        if row.get("instance") != key:
            continue
        objective = row.get("objective") or ""
        if not _wanted(format, objective, policy, convention):
            continue
        cost_text = (row.get("best_known_cost") or "").strip()
        vehicles_text = (row.get("vehicles") or "").strip()
        try:
            listed = float(cost_text)
            vehicles = int(vehicles_text) if vehicles_text else None
        except ValueError as exc:
            raise InputError(
                f"expected a number in best_known_cost and a whole number or nothing in "
                f"vehicles, got {cost_text!r} and {vehicles_text!r}",
                path=str(table),
                line=lineno,
            ) from exc
        factor = _HOUR if format == "montoya" else 1.0
        return BestKnown(
            instance=key,
            cost=listed * factor,
            vehicles=vehicles,
            objective=objective,
            listed_cost=listed,
            source=row.get("source") or "",
            notes=row.get("notes") or "",
        )
    return None
