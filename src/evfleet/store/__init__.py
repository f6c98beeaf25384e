"""Storage adapters: engine and sessions (:mod:`.db`), models, repositories, migrations."""

from evfleet.store.db import DEFAULT_DATABASE_URL, Database, make_engine, migrate

__all__ = ["DEFAULT_DATABASE_URL", "Database", "make_engine", "migrate"]
