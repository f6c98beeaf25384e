"""Per-vehicle MQTT credentials for Mosquitto: a password file and an ACL file rendered from
the vehicles in the database.

Each van logs in with its vehicle id as the user name and a password derived from one
operator secret (``HMAC-SHA256(secret, vehicle_id)``, :func:`vehicle_password`), so no
password needs storing: the operator provisions the van with it and re-renders the files
when the fleet changes (then ``kill -HUP`` Mosquitto to reload them). The ACL lets a van
**write only its own topic** ``evfleet/<org>/vehicles/<vehicle_id>/telemetry`` (its
organisation fixed too, tighter than a ``pattern … %u`` line) and the ingester user read
every telemetry topic. Mosquitto silently drops a publish the ACL refuses (MQTT 3.1.1; MQTT
5 clients get reason code 0x87 on the PUBACK), so a van cannot inject another's data.

Passwords are written in Mosquitto 2's PBKDF2-SHA512 format (``$7$``, what
``mosquitto_passwd`` writes), so the files need no Mosquitto tool to make.

Usage::

    python -m evfleet.ingest.mosquitto_auth --database-url postgresql://... \\
        --out /etc/mosquitto/evfleet --ingester-password ...   # secret: EVFLEET_MQTT_SECRET
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import os
import secrets
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from evfleet.store import models as m
from evfleet.store.db import Database
from evfleet.telemetry import TOPIC_FILTER, telemetry_topic

__all__ = [
    "INGESTER_USER",
    "VehicleAccount",
    "hash_password",
    "render_acl",
    "render_password_file",
    "vehicle_accounts",
    "vehicle_password",
    "write_files",
]

INGESTER_USER = "evfleet-ingest"
PBKDF2_ITERATIONS = 101
"""Mosquitto 2.0's default for ``$7$`` hashes."""


@dataclass(frozen=True)
class VehicleAccount:
    """A van's MQTT user (its id) and its organisation."""

    vehicle_id: str
    organisation_id: str

    @property
    def topic(self) -> str:
        return telemetry_topic(self.organisation_id, self.vehicle_id)


def vehicle_password(secret: str, vehicle_id: str) -> str:
    """The van's MQTT password: ``HMAC-SHA256(secret, vehicle_id)``, base64url (43 chars)."""
    digest = hmac.new(secret.encode(), vehicle_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def hash_password(password: str, salt: bytes | None = None) -> str:
    """``password`` as Mosquitto 2 stores it: ``$7$<iterations>$<salt>$<hash>`` (base64)."""
    salt = salt if salt is not None else secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, PBKDF2_ITERATIONS)
    return (
        f"$7${PBKDF2_ITERATIONS}${base64.b64encode(salt).decode()}"
        f"${base64.b64encode(digest).decode()}"
    )


def _check_user(name: str) -> str:
    if not name or any(c in name for c in ":\n\r#+/ "):
        raise ValueError(f"{name!r} cannot be an MQTT user name here")
    return name


def render_password_file(credentials: Iterable[tuple[str, str]]) -> str:
    """A Mosquitto ``password_file`` for ``(user, password)`` pairs."""
    return "".join(f"{_check_user(u)}:{hash_password(p)}\n" for u, p in credentials)


def render_acl(vehicles: Sequence[VehicleAccount], ingester_user: str = INGESTER_USER) -> str:
    """A Mosquitto ``acl_file``: the ingester reads all telemetry; each van writes its own
    topic only."""
    lines = [
        "# Rendered by evfleet.ingest.mosquitto_auth; do not edit by hand.",
        f"user {_check_user(ingester_user)}",
        f"topic read {TOPIC_FILTER}",
        "",
    ]
    for account in sorted(vehicles, key=lambda a: a.vehicle_id):
        lines += [f"user {_check_user(account.vehicle_id)}", f"topic write {account.topic}", ""]
    return "\n".join(lines)


def vehicle_accounts(db: Database, *, active_only: bool = True) -> list[VehicleAccount]:
    """Every (active) vehicle in the database, all organisations."""
    query = select(m.Vehicle.id, m.Vehicle.organisation_id)
    if active_only:
        query = query.where(m.Vehicle.active.is_(True))
    with db.engine.connect() as connection:
        rows = connection.execute(query).all()
    return [VehicleAccount(str(v), str(o)) for v, o in rows]


def write_files(
    db: Database,
    out: Path,
    secret: str,
    ingester_password: str,
    *,
    ingester_user: str = INGESTER_USER,
) -> tuple[Path, Path]:
    """Writes ``passwords`` and ``acl`` under ``out`` (mode 0600); returns their paths."""
    accounts = vehicle_accounts(db)
    out.mkdir(parents=True, exist_ok=True)
    credentials = [(ingester_user, ingester_password)]
    credentials += [(a.vehicle_id, vehicle_password(secret, a.vehicle_id)) for a in accounts]
    paths = (out / "passwords", out / "acl")
    for path, content in zip(
        paths, (render_password_file(credentials), render_acl(accounts, ingester_user)), strict=True
    ):
        tmp = path.with_suffix(".tmp")
        tmp.write_text(content, encoding="utf-8")
        os.chmod(tmp, 0o600)
        tmp.replace(path)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("EVFLEET_DATABASE_URL"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--ingester-user", default=INGESTER_USER)
    parser.add_argument(
        "--ingester-password", default=os.environ.get("EVFLEET_MQTT_INGESTER_PASSWORD")
    )
    args = parser.parse_args(argv)
    secret = os.environ.get("EVFLEET_MQTT_SECRET")
    if not (args.database_url and secret and args.ingester_password):
        print("need --database-url, --ingester-password and EVFLEET_MQTT_SECRET", file=sys.stderr)
        return 2
    db = Database(args.database_url)
    try:
        passwords, acl = write_files(
            db, args.out, secret, args.ingester_password, ingester_user=args.ingester_user
        )
    finally:
        db.dispose()
    print(f"wrote {passwords} and {acl}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
