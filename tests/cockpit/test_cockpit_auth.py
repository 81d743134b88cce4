"""Signing in and the guard in front of every route, tested by trying the attacks."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from wxai.cockpit.app import create_app
from wxai.cockpit.auth import CSRF_HEADER, SESSION_COOKIE, is_public

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "wxai" / "cockpit" / "templates"
PASSWORD = "correct horse battery"


@pytest.fixture
def app_client(wxai_home, capfd):
    """The app and an anonymous client; ``capfd`` holds the first-start console output."""
    with TestClient(create_app(wxai_home, start_worker=False)) as client:
        yield client


def _user(client: TestClient, name: str, *, admin: bool = False) -> str:
    accounts = client.app.state.accounts  # type: ignore[attr-defined]
    accounts.add_user(name, PASSWORD, "admin" if admin else "user")
    return name


def _browser(client: TestClient, name: str) -> tuple[TestClient, str]:
    """A second client for the same app, signed in through the login form."""
    browser = TestClient(client.app, follow_redirects=False)
    answer = browser.post("/login", data={"username": name, "password": PASSWORD, "next": "/x"})
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/x"
    csrf = browser.get("/api/me").json()["csrf_token"]
    return browser, csrf


def _key(client: TestClient, name: str) -> str:
    accounts = client.app.state.accounts  # type: ignore[attr-defined]
    return accounts.create_api_key(name).token


def _paths(app) -> list[tuple[str, str]]:
    """(method, concrete path) for every route and mount of the app."""
    out = []
    routes = []
    for route in app.routes:  # FastAPI keeps included routers as wrappers of the originals
        original = getattr(route, "original_router", None)
        routes.extend(original.routes if original is not None else [route])
    for route in routes:
        if isinstance(route, APIRoute | Route):
            path = re.sub(r"\{[^}]+\}", "x", route.path)
            for method in sorted(route.methods or {"GET"}):
                if method != "HEAD":
                    out.append((method, path))
        elif isinstance(route, Mount):
            out.append(("GET", route.path + "/x.js"))
    return out


def test_every_route_but_the_public_ones_needs_a_login(app_client):
    checked = 0
    for method, path in _paths(app_client.app):
        if is_public(path):
            continue
        answer = app_client.request(method, path, headers={"accept": "application/json"})
        assert answer.status_code == 401, (method, path, answer.status_code)
        checked += 1
    assert checked > 25  # pages, REST, streams, uploads, figures, docs, openapi.json


def test_pages_redirect_to_the_login_keeping_the_destination(app_client):
    answer = app_client.get("/labs?x=1", headers={"accept": "text/html"}, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Flabs%3Fx%3D1"
    login = app_client.get("/login")
    assert login.status_code == 200 and 'name="password"' in login.text


def test_first_start_prints_a_one_time_link_that_signs_the_admin_in(wxai_home, capfd):
    with TestClient(create_app(wxai_home, start_worker=False), follow_redirects=False) as client:
        printed = capfd.readouterr().err
        token = re.search(r"/auth/link\?token=([\w-]+)", printed).group(1)
        assert client.get("/api/me").status_code == 401
        answer = client.get(f"/auth/link?token={token}")
        assert answer.status_code == 303
        cookie = answer.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert client.get("/api/me").json()["name"] == "admin"
        client.cookies.clear()
        assert client.get(f"/auth/link?token={token}").status_code == 401  # used once
    with TestClient(create_app(wxai_home, start_worker=False)):
        assert "/auth/link" not in capfd.readouterr().err  # not on the next start


def test_wrong_password_unknown_user_and_disabled_user_cannot_sign_in(app_client):
    _user(app_client, "alice")
    for name, password in [("alice", "wrong password"), ("nobody", PASSWORD)]:
        answer = app_client.post("/login", data={"username": name, "password": password})
        assert answer.status_code == 401
        assert SESSION_COOKIE not in answer.cookies
    app_client.app.state.accounts.set_disabled("alice", True)  # type: ignore[attr-defined]
    answer = app_client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert answer.status_code == 401


def test_state_changes_with_the_cookie_need_the_csrf_token_and_same_origin(app_client):
    _user(app_client, "alice")
    browser, csrf = _browser(app_client, "alice")
    body = {"label": "laptop"}
    assert browser.post("/api/me/keys", json=body).status_code == 403
    assert (
        browser.post("/api/me/keys", json=body, headers={CSRF_HEADER: "guess"}).status_code == 403
    )
    evil = {CSRF_HEADER: csrf, "origin": "http://evil.example"}
    assert browser.post("/api/me/keys", json=body, headers=evil).status_code == 403
    good = {CSRF_HEADER: csrf, "origin": "http://testserver"}
    assert browser.post("/api/me/keys", json=body, headers=good).status_code == 201


def test_open_redirects_after_login_are_refused(app_client):
    _user(app_client, "alice")
    browser = TestClient(app_client.app, follow_redirects=False)
    for target in ["//evil.example/", "https://evil.example/", "/\\evil.example"]:
        browser.cookies.clear()
        answer = browser.post(
            "/login", data={"username": "alice", "password": PASSWORD, "next": target}
        )
        assert answer.headers["location"] == "/"


def test_api_keys_work_once_shown_and_stop_when_revoked(app_client):
    _user(app_client, "alice")
    key = _key(app_client, "alice")
    headers = {"authorization": f"Bearer {key}"}
    assert app_client.get("/api/me", headers=headers).json()["name"] == "alice"
    listed = app_client.get("/api/me/keys", headers=headers).json()
    assert listed and all(item["key"] is None for item in listed)  # never shown again
    stored = app_client.app.state.accounts.list_api_keys(listed[0]["id"])  # type: ignore[attr-defined]
    assert stored == []  # a key id is not a user id: nothing leaks through the wrong id
    assert app_client.delete(f"/api/me/keys/{listed[0]['id']}", headers=headers).status_code == 204
    assert app_client.get("/api/me", headers=headers).status_code == 401


def test_only_the_two_credential_transports_are_read(app_client):
    _user(app_client, "alice")
    key = _key(app_client, "alice")
    for headers in [
        {"x-api-key": key},
        {"authorization": key},
        {"authorization": f"Basic {key}"},
        {"authorization": f"Token {key}"},
        {"cookie": f"{SESSION_COOKIE}={key}"},  # a key is not a session token
    ]:
        assert app_client.get("/api/me", headers=headers).status_code == 401, headers


def test_an_invalid_header_is_not_rescued_by_a_valid_cookie(app_client):
    _user(app_client, "alice")
    browser, _ = _browser(app_client, "alice")
    assert browser.get("/api/me").status_code == 200
    assert (
        browser.get("/api/me", headers={"authorization": "Bearer wxai_forged"}).status_code == 401
    )


def test_disabling_a_user_ends_every_credential_at_once(app_client):
    _user(app_client, "alice")
    browser, _ = _browser(app_client, "alice")
    key = _key(app_client, "alice")
    accounts = app_client.app.state.accounts  # type: ignore[attr-defined]
    link = accounts.create_login_link("alice").token
    accounts.set_disabled("alice", True)
    assert browser.get("/api/me").status_code == 401
    assert app_client.get("/api/me", headers={"authorization": f"Bearer {key}"}).status_code == 401
    assert app_client.get(f"/auth/link?token={link}").status_code == 401
    accounts.set_disabled("alice", False)
    assert browser.get("/api/me").status_code == 200  # enabling again restores the session


def test_logout_ends_the_session_server_side(app_client):
    _user(app_client, "alice")
    browser, csrf = _browser(app_client, "alice")
    stolen = browser.cookies.get(SESSION_COOKIE)
    assert browser.post("/logout", headers={CSRF_HEADER: csrf}).status_code == 204
    replay = TestClient(app_client.app)
    replay.cookies.set(SESSION_COOKIE, stolen)
    assert replay.get("/api/me").status_code == 401


def test_host_header_must_be_an_allowed_name(app_client):
    answer = app_client.get("/api/health", headers={"host": "attacker.example"})
    assert answer.status_code == 400
    assert app_client.get("/api/health", headers={"host": "localhost:8000"}).status_code == 200


def test_pages_carry_a_strict_content_security_policy(app_client):
    answer = app_client.get("/login")
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_templates_have_no_inline_script_or_handlers():
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template.name
        assert not re.search(r"\son[a-z]+\s*=", text), template.name
        assert "style=" not in text, template.name


def test_admin_routes_are_404_for_users_and_work_for_admins(app_client):
    _user(app_client, "alice")
    user = {"authorization": f"Bearer {_key(app_client, 'alice')}"}
    admin = {"authorization": f"Bearer {_key(app_client, 'admin')}"}
    assert app_client.get("/api/admin/users", headers=user).status_code == 404
    assert app_client.post("/api/admin/users", json={"name": "x"}, headers=user).status_code == 404
    made = app_client.post(
        "/api/admin/users",
        json={"name": "bob", "password": PASSWORD, "groups": []},
        headers=admin,
    )
    assert made.status_code == 201 and made.json()["role"] == "user"
    group = app_client.post("/api/admin/groups", json={"name": "forecasters"}, headers=admin)
    group_id = group.json()["id"]
    put = app_client.put(f"/api/admin/groups/{group_id}/members/bob", headers=admin)
    assert put.status_code == 204
    users = {u["name"]: u for u in app_client.get("/api/admin/users", headers=admin).json()}
    assert users["bob"]["groups"] == ["forecasters"]
    assert "password_hash" not in users["bob"]
    bad = app_client.post("/api/admin/users", json={"name": "../x"}, headers=admin)
    assert bad.status_code == 400
    last_admin = app_client.patch(
        f"/api/admin/users/{users['admin']['id']}", json={"disabled": True}, headers=admin
    )
    assert last_admin.status_code == 400  # the last admin cannot lock everyone out


def test_concurrent_first_starts_create_one_admin(wxai_home):
    apps = [create_app(wxai_home, start_worker=False) for _ in range(3)]
    clients = [TestClient(app) for app in apps]
    threads = [threading.Thread(target=client.__enter__) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        names = [u.name for u in apps[0].state.accounts.list_users()]
        assert names == ["admin"]
    finally:
        for client in clients:
            client.__exit__(None, None, None)


def test_a_stream_rechecks_the_sign_in_at_result_parts_and_once_a_second(tmp_path) -> None:
    from wxai.cockpit.accounts import AccountStore
    from wxai.cockpit.auth import SignInWatch

    accounts = AccountStore(f"sqlite:///{tmp_path / 'a.db'}")
    accounts.create_tables()
    accounts.add_user("bob", "correct-horse-battery")
    bob = accounts.resolve(accounts.create_api_key("bob", "t").token, "api_key")
    assert bob is not None
    watch = SignInWatch(accounts, bob, interval=0.3)
    accounts.set_disabled("bob", True)
    assert watch(important=False)  # within the interval of the guard's own check
    assert not watch(important=True)  # a tool result or citations: asked at once
    later = SignInWatch(accounts, bob, interval=0.3)
    threading.Event().wait(0.35)
    assert not later(important=False)  # a text delta after the interval: asked
    accounts.close()
