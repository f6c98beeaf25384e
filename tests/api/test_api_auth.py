"""Login, tokens, API keys and the login rate limit; secrets are stored only as hashes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import httpx
import sqlalchemy as sa
from api_world import API, PASSWORD, World, bearer, login
from fastapi import FastAPI
from fastapi.testclient import TestClient

from evfleet.api.ratelimit import SlidingWindowLimiter
from evfleet.store import models as m
from evfleet.store.db import Database


def _login(client: TestClient, email: str, password: str) -> httpx.Response:
    return client.post(f"{API}/auth/token", data={"username": email, "password": password})


def test_login_gives_a_bearer_token_that_logout_revokes(client: TestClient, world: World) -> None:
    response = _login(client, "ADMIN@alpha.test ", PASSWORD)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 12 * 3600
    token = body["access_token"]
    me = client.get(f"{API}/auth/me", headers=bearer(token)).json()
    assert me["role"] == "admin" and me["organisation_id"] == str(world.a.id)
    assert client.post(f"{API}/auth/logout", headers=bearer(token)).status_code == 204
    again = client.get(f"{API}/auth/me", headers=bearer(token))
    assert again.status_code == 401
    assert again.headers["content-type"] == "application/problem+json"


def test_wrong_credentials_are_one_401_problem(client: TestClient, world: World) -> None:
    for email, password in (("admin@alpha.test", "wrong password!"), ("nobody@x.test", PASSWORD)):
        response = client.post(f"{API}/auth/token", data={"username": email, "password": password})
        assert response.status_code == 401
        assert response.json()["detail"] == "wrong e-mail address or password"


def test_failed_logins_are_limited_per_account_with_retry_after(
    make_app: Callable[..., FastAPI],
) -> None:
    app = make_app(login_attempts_per_account=3, login_attempts_per_ip=100)
    with TestClient(app) as client:
        client.post(
            f"{API}/organisations",
            json={"name": "Z", "admin_email": "z@z.test", "admin_password": PASSWORD},
        )
        for _ in range(3):
            wrong = client.post(f"{API}/auth/token", data={"username": "z@z.test", "password": "x"})
            assert wrong.status_code == 401
        limited = client.post(
            f"{API}/auth/token", data={"username": "Z@z.test", "password": PASSWORD}
        )
        assert limited.status_code == 429
        assert limited.headers["content-type"] == "application/problem+json"
        assert 1 <= int(limited.headers["retry-after"]) <= 300
        assert limited.json()["type"] == "urn:evfleet:problem:rate-limited"
        # another account from the same address is not affected
        other = client.post(f"{API}/auth/token", data={"username": "q@z.test", "password": "x"})
        assert other.status_code == 401


def test_logins_are_limited_per_address(make_app: Callable[..., FastAPI]) -> None:
    app = make_app(login_attempts_per_account=100, login_attempts_per_ip=4)
    with TestClient(app) as client:
        client.post(
            f"{API}/organisations",
            json={"name": "Z", "admin_email": "z@z.test", "admin_password": PASSWORD},
        )
        codes = [
            client.post(
                f"{API}/auth/token", data={"username": f"u{k}@z.test", "password": "x"}
            ).status_code
            for k in range(4)
        ]
        assert codes == [401] * 4
        response = client.post(
            f"{API}/auth/token", data={"username": "z@z.test", "password": PASSWORD}
        )
        assert response.status_code == 429 and "retry-after" in response.headers


def test_a_successful_login_resets_the_account_count(make_app: Callable[..., FastAPI]) -> None:
    app = make_app(login_attempts_per_account=2)
    with TestClient(app) as client:
        client.post(
            f"{API}/organisations",
            json={"name": "Z", "admin_email": "z@z.test", "admin_password": PASSWORD},
        )
        for _ in range(3):
            client.post(f"{API}/auth/token", data={"username": "z@z.test", "password": "x"})
            login(client, "z@z.test")


def test_the_limiter_slides() -> None:
    now = [0.0]
    limiter = SlidingWindowLimiter(2, 10.0, clock=lambda: now[0])
    limiter.hit("k")
    now[0] = 4.0
    limiter.hit("k")
    assert limiter.retry_after("k") == 6
    now[0] = 10.5
    assert limiter.retry_after("k") == 0


def test_secrets_are_stored_only_as_hashes(client: TestClient, world: World, db: Database) -> None:
    token = world.a.credentials["admin"]
    key = world.a.credentials["vehicle"]
    with db.sessions() as session:
        users = session.scalars(sa.select(m.User)).all()
        assert users and all(u.password_hash.startswith("$argon2id$") for u in users)
        keys = session.scalars(sa.select(m.ApiKey)).all()
        assert keys and all(k.secret_hash.startswith("$argon2id$") for k in keys)
        dump = " ".join(
            str(v)
            for table in ("users", "api_keys", "access_tokens")
            for row in session.execute(sa.text(f"SELECT * FROM {table}")).all()
            for v in row
        )
    assert token not in dump and token[4:] not in dump
    # The secret itself may contain "_": split at the first two only.
    assert key.split("_", 2)[2] not in dump and PASSWORD not in dump


def test_deactivating_a_user_or_changing_the_password_ends_their_sessions(
    client: TestClient, world: World
) -> None:
    a = world.a
    viewer = a.headers("viewer")
    assert client.get(f"{API}/auth/me", headers=viewer).status_code == 200
    response = client.patch(
        f"{API}/users/{a.users['viewer']}", json={"active": False}, headers=a.headers()
    )
    assert response.status_code == 200
    assert client.get(f"{API}/auth/me", headers=viewer).status_code == 401
    assert _login(client, "viewer@alpha.test", PASSWORD).status_code == 401
    client.patch(
        f"{API}/users/{a.users['driver']}", json={"password": "a new long one"}, headers=a.headers()
    )
    assert client.get(f"{API}/auth/me", headers=a.headers("driver")).status_code == 401
    login(client, "driver@alpha.test", "a new long one")


def test_expired_tokens_are_refused(client: TestClient, world: World, db: Database) -> None:
    with db.session() as session:
        for token in session.scalars(sa.select(m.AccessToken)):
            token.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    assert client.get(f"{API}/auth/me", headers=world.a.headers()).status_code == 401


def test_api_keys_work_until_revoked(client: TestClient, world: World) -> None:
    a = world.a
    made = client.post(
        f"{API}/api-keys", json={"name": "etl", "role": "dispatcher"}, headers=a.headers()
    ).json()
    assert made["key"].startswith("evk_") and made["prefix"] in made["key"]
    key = bearer(made["key"])
    me = client.get(f"{API}/auth/me", headers=key).json()
    assert (me["kind"], me["role"]) == ("api_key", "dispatcher")
    assert client.get(f"{API}/depots", headers=key).status_code == 200  # cached verification
    listed = client.get(f"{API}/api-keys", headers=a.headers()).json()
    assert all("key" not in k for k in listed["items"])
    stored = client.get(f"{API}/api-keys/{made['id']}", headers=a.headers()).json()
    assert stored["last_used_at"] is not None
    assert client.delete(f"{API}/api-keys/{made['id']}", headers=a.headers()).status_code == 204
    assert client.get(f"{API}/auth/me", headers=key).status_code == 401
    wrong = made["key"][:-4] + ("AAAA" if not made["key"].endswith("AAAA") else "BBBB")
    assert client.get(f"{API}/auth/me", headers=bearer(wrong)).status_code == 401


def test_a_driver_key_or_a_vehicle_user_cannot_be_made(client: TestClient, world: World) -> None:
    h = world.a.headers()
    key = client.post(f"{API}/api-keys", json={"name": "x", "role": "driver"}, headers=h)
    assert key.status_code == 422
    no_vehicle = client.post(f"{API}/api-keys", json={"name": "x", "role": "vehicle"}, headers=h)
    assert no_vehicle.status_code == 422
    user = client.post(
        f"{API}/users",
        json={"email": "v@alpha.test", "role": "vehicle", "password": PASSWORD},
        headers=h,
    )
    assert user.status_code == 422


def test_the_last_admin_stays(client: TestClient, world: World) -> None:
    a = world.a
    url = f"{API}/users/{a.users['admin']}"
    assert client.patch(url, json={"role": "viewer"}, headers=a.headers()).status_code == 409
    assert client.delete(url, headers=a.headers()).status_code == 409
    taken = client.post(
        f"{API}/users",
        json={"email": "Admin@Bravo.test", "role": "viewer", "password": PASSWORD},
        headers=a.headers(),
    )
    assert taken.status_code == 409
    assert taken.json()["errors"][0]["loc"] == ["body", "email"]


def test_sign_up_can_be_switched_off(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(allow_signup=False)) as client:
        response = client.post(
            f"{API}/organisations",
            json={"name": "Z", "admin_email": "z@z.test", "admin_password": PASSWORD},
        )
        assert response.status_code == 403
