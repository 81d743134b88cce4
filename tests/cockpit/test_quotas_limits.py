"""Rate limits and token quotas: counted in the database, 429 with Retry-After, set by
admins per user and by users per key, OpenAI's error shape under /v1/."""

from __future__ import annotations

import threading

import pytest

from wxai.cockpit.accounts import Principal
from wxai.cockpit.quotas import Limits, QuotaStore, counted


class Clock:
    """A settable clock (seconds since the epoch)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(client) -> Clock:
    fake = Clock(1_800_000_000.0 + 10)  # 10 s into a minute
    client.app.state.quotas.clock = fake  # type: ignore[attr-defined]
    return fake


def _user(client, name: str) -> dict[str, str]:
    accounts = client.app.state.accounts  # type: ignore[attr-defined]
    accounts.add_user(name, "correct-horse-battery")
    return {"Authorization": f"Bearer {accounts.create_api_key(name, 't').token}"}


def test_requests_over_the_minute_get_429_with_retry_after(client, clock) -> None:
    bob = _user(client, "bob")
    set_ = client.put("/api/admin/users/bob/limits", json={"requests_per_minute": 3})
    assert set_.status_code == 200 and set_.json()["requests_per_minute"] == 3
    answers = [client.get("/api/sessions", headers=bob) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[2].headers["x-ratelimit-remaining-requests"] == "0"
    refused = answers[3]
    assert refused.headers["retry-after"] == "50"
    assert (
        "3 requests this minute" in refused.json()["detail"] and "50 s" in refused.json()["detail"]
    )
    # OpenAI's shape under /v1/
    v1 = client.get("/v1/models", headers=bob)
    assert v1.status_code == 429
    assert v1.json()["error"]["type"] == "rate_limit_error"
    assert v1.json()["error"]["code"] == "rate_limit_exceeded"
    # others are not affected; the admin has no limit
    assert client.get("/api/sessions").status_code == 200
    clock.now += 50  # the next minute
    assert client.get("/api/sessions", headers=bob).status_code == 200


def test_default_limit_from_settings_and_override_back_to_default(client, clock) -> None:
    quotas = client.app.state.quotas  # type: ignore[attr-defined]
    carl = _user(client, "carl")
    client.put("/api/admin/users/admin/limits", json={"requests_per_minute": 0})
    quotas.defaults = Limits(2, 0)
    assert [client.get("/api/me", headers=carl).status_code for _ in range(3)] == [200, 200, 429]
    # an admin's override of 0 = unlimited for carl
    assert (
        client.put("/api/admin/users/carl/limits", json={"requests_per_minute": 0}).status_code
        == 200
    )
    assert all(client.get("/api/me", headers=carl).status_code == 200 for _ in range(5))
    # null restores the default (already used up this minute)
    client.put("/api/admin/users/carl/limits", json={"requests_per_minute": None})
    assert client.get("/api/admin/users/carl/limits").json()["requests_per_minute"] is None
    assert client.get("/api/me", headers=carl).status_code == 429


def test_only_admins_set_limits_and_values_are_checked(client, clock) -> None:
    dave = _user(client, "dave")
    assert client.put("/api/admin/users/dave/limits", json={"requests_per_minute": 1000},
                      headers=dave).status_code == 404  # fmt: skip
    assert (
        client.put("/api/admin/users/dave/limits", json={"requests_per_minute": -1}).status_code
        == 400
    )
    assert client.put("/api/admin/users/nobody/limits", json={}).status_code == 404


def test_a_key_limit_applies_to_that_key_only_and_never_raises_the_users(client, clock) -> None:
    _user(client, "erin")
    accounts = client.app.state.accounts  # type: ignore[attr-defined]
    signed = {"Authorization": f"Bearer {accounts.create_api_key('erin', 'main').token}"}
    made = client.post(
        "/api/me/keys", json={"label": "bot", "limits": {"requests_per_minute": 2}}, headers=signed
    )
    assert made.status_code == 201, made.text
    bot = {"Authorization": f"Bearer {made.json()['key']}"}
    assert [client.get("/api/me", headers=bot).status_code for _ in range(3)] == [200, 200, 429]
    assert "your API key" in client.get("/api/me", headers=bot).json()["detail"]
    assert client.get("/api/me", headers=signed).status_code == 200  # another key of erin
    # a key's limit above the user's does not raise it
    client.put("/api/admin/users/erin/limits", json={"requests_per_minute": 5})
    key_id = made.json()["id"]
    raised = client.put(f"/api/me/keys/{key_id}/limits", json={"requests_per_minute": 100},
                        headers=signed)  # fmt: skip
    assert raised.status_code == 200
    codes = [client.get("/api/me", headers=bot).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 200, 429]  # erin's 5 a minute (1 used by the PUT)
    # another user's key cannot be limited (or probed)
    frank = _user(client, "frank")
    assert client.put(f"/api/me/keys/{key_id}/limits", json={"requests_per_minute": 0},
                      headers=frank).status_code == 404  # fmt: skip


def test_tokens_per_day_refuse_chat_but_not_reading(client, clock) -> None:
    gina = _user(client, "gina")
    client.put("/api/admin/users/gina/limits", json={"tokens_per_day": 100})
    sid = client.post("/api/sessions", json={}, headers=gina).json()["id"]
    quotas = client.app.state.quotas  # type: ignore[attr-defined]
    accounts = client.app.state.accounts  # type: ignore[attr-defined]
    info = accounts.user_info("gina")
    who = Principal(info.id, "gina", "user", frozenset(), "api_key", "x")
    quotas.charge_tokens(who, 100)
    refused = client.post(f"/api/sessions/{sid}/messages", json={"text": "hi"}, headers=gina)
    assert refused.status_code == 429
    assert "tokens" in refused.json()["detail"] and "00:00 UTC" in refused.json()["detail"]
    assert int(refused.headers["retry-after"]) == 86400 - (1_800_000_010 % 86400)
    chat = {"model": "x", "messages": [{"role": "user", "content": "hi"}]}
    v1 = client.post("/v1/chat/completions", headers=gina, json=chat)
    assert v1.status_code == 429 and v1.json()["error"]["code"] == "insufficient_quota"
    assert client.get(f"/api/sessions/{sid}/messages", headers=gina).status_code == 200
    usage = client.get("/api/me/usage", headers=gina).json()
    wait = int(refused.headers["retry-after"])
    assert usage["user"]["tokens_per_day"] == {"limit": 100, "used": 100, "resets_in_s": wait}
    clock.now += 86400  # a new UTC day
    assert client.get("/api/me/usage", headers=gina).json()["user"]["tokens_per_day"]["used"] == 0


def test_a_chat_turn_is_charged(client, clock) -> None:
    client.app.state.chat_now = None  # type: ignore[attr-defined]
    sid = client.post("/api/sessions", json={}).json()["id"]
    answer = client.post(f"/api/sessions/{sid}/messages", json={"text": "Convert 10 m/s to km/h"})
    assert answer.status_code == 200 and "event: done" in answer.text
    quotas = client.app.state.quotas  # type: ignore[attr-defined]
    deadline = 100
    while deadline and not client.get("/api/me/usage").json()["user"]["tokens_per_day"]["used"]:
        deadline -= 1  # the turn's thread charges right after the last part
        threading.Event().wait(0.05)
    used = client.get("/api/me/usage").json()
    assert used["user"]["tokens_per_day"]["used"] > 0
    assert used["key"]["tokens_per_day"]["used"] == used["user"]["tokens_per_day"]["used"]
    assert quotas is not None


def test_counters_are_exact_under_concurrency(tmp_path) -> None:
    store = QuotaStore(f"sqlite:///{tmp_path / 'q.db'}", requests_per_minute=150)
    store.create_tables()
    store.clock = lambda: 1_800_000_005.0
    who = Principal("u1", "u", "user", frozenset(), "session", "c1")
    verdicts: list[bool] = []
    lock = threading.Lock()

    def hammer() -> None:
        for _ in range(25):
            allowed = store.admit(who).allowed
            with lock:
                verdicts.append(allowed)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(verdicts) == 200 and verdicts.count(True) == 150
    assert store.usage(who)["user"]["requests_per_minute"]["used"] == 200
    store.close()


@pytest.mark.parametrize(
    ("path", "method", "via", "expected"),
    [
        ("/static/app.js", "GET", "session", False),
        ("/", "GET", "session", False),
        ("/api/health", "GET", "api_key", False),
        ("/api/sessions", "GET", "session", False),  # a page's own reads
        ("/api/sessions", "POST", "session", True),
        ("/api/sessions", "GET", "api_key", True),
        ("/v1/models", "GET", "api_key", True),
    ],
)
def test_what_is_counted(path, method, via, expected) -> None:
    assert counted(path, method, via) is expected
