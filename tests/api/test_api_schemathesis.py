"""Property-based contract test: Schemathesis generates requests from the app's own
OpenAPI document and sends them in-process (ASGI); no response may be a 5xx, and every
response must match the document (status code, content type, headers, body schema).

A bounded number of examples per operation keeps it well under a minute. The caller is an
admin API key (a login token would be revoked by the generated ``POST /auth/logout``).
"""

from __future__ import annotations

import time
import traceback
from pathlib import Path

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from evfleet.api.app import create_app
from evfleet.api.auth import new_api_key
from evfleet.api.bootstrap import create_organisation
from evfleet.api.deps import services_of_app
from evfleet.api.settings import Settings
from evfleet.store import models as m

EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.mark.slow
def test_the_api_keeps_its_openapi_contract(tmp_path: Path) -> None:
    app = create_app(
        Settings(
            database_url=f"sqlite:///{tmp_path / 'fuzz.db'}",
            allow_signup=True,
            argon2_time_cost=1,
            argon2_memory_kib=64,
            argon2_parallelism=1,
            sse_poll_s=0.01,
        )
    )
    services = services_of_app(app)
    with services.db.session() as session:
        org, _ = create_organisation(
            session, services.hasher, "Fuzz", "admin@fuzz.test", "correct horse battery"
        )
        key, prefix, secret_hash = new_api_key(services)
        session.add(
            m.ApiKey(
                organisation_id=org.id,
                name="fuzz",
                role="admin",
                prefix=prefix,
                secret_hash=secret_hash,
            )
        )
    headers = {"Authorization": f"Bearer {key}"}
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    started = time.monotonic()
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @hypothesis.settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @hypothesis.given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            check()
        except (Exception, BaseExceptionGroup):
            failures.append(f"{operation.label}:\n{traceback.format_exc(limit=3)}")
    elapsed = time.monotonic() - started
    assert operations >= 40
    assert not failures, "\n\n".join(failures)
    assert elapsed < 60, f"took {elapsed:.0f} s"
    services.db.dispose()
