"""The cockpit's task, account, session and dataspace tests again, on PostgreSQL.

The tests below are imported from their modules and collected here a second time;
``wxai_home`` is overridden so the app (and every store it opens) uses a fresh
PostgreSQL database (``fresh_database_url``) instead of SQLite. The task access
rules (owner or admin only) are checked here as well.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_cockpit_auth import (  # noqa: F401 - the fixture and tests run here again
    app_client,
    test_admin_routes_are_404_for_users_and_work_for_admins,
    test_api_keys_work_once_shown_and_stop_when_revoked,
    test_concurrent_first_starts_create_one_admin,
    test_disabling_a_user_ends_every_credential_at_once,
)
from test_cockpit_dataspaces import (  # noqa: F401
    space,
    test_group_dataspaces_and_members,
)
from test_cockpit_sessions import (  # noqa: F401
    test_another_users_session_is_not_found,
    test_crud_and_search,
)
from test_cockpit_tasks import (  # noqa: F401
    test_a_cancelled_task_is_not_executed,
    test_cancel_a_waiting_task_at_once_then_409,
    test_delete,
    test_list_is_newest_first_and_filters_by_state,
    test_state_machine_to_completed,
    test_stopping_the_server_interrupts_the_running_task,
    test_task_errors_become_failed_tasks,
)

from wxai.core.settings import Settings, reload_settings


@pytest.fixture
def wxai_home(tmp_path, monkeypatch, fresh_database_url) -> Iterator[Settings]:
    """A fresh wxai home whose cockpit database is a new PostgreSQL database."""
    monkeypatch.setenv("WXAI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WXAI_DATABASE_URL", fresh_database_url)
    monkeypatch.delenv("WXAI_TRACKING_URI", raising=False)
    settings = reload_settings()
    assert settings.resolved_database_url.startswith("postgresql+psycopg://")
    yield settings
    monkeypatch.undo()
    reload_settings()


def test_tasks_are_seen_and_changed_by_their_owner_or_an_admin_only(client, wait_task):
    accounts = client.app.state.accounts
    for name in ("alice", "bob"):
        accounts.add_user(name)
    keys = {n: accounts.create_api_key(n, "t").token for n in ("alice", "bob")}

    def call(user, method, url, **kwargs):
        headers = {"Authorization": f"Bearer {keys[user]}"} if user != "admin" else {}
        return client.request(method, url, headers=headers, **kwargs)

    made = call("alice", "POST", "/api/tasks", json={"type": "test-wait", "params": {}})
    assert made.status_code == 201, made.text
    url = f"/api/tasks/{made.json()['id']}"
    for method, body in (("GET", None), ("PUT", {"action": "cancel"}), ("DELETE", None)):
        denied = call("bob", method, url, json=body)
        assert denied.status_code == 404 and "test-wait" not in denied.text
    assert call("bob", "GET", "/api/tasks").json() == []
    assert call("alice", "GET", url).json()["state"] == "created"  # untouched by bob
    assert [t["id"] for t in call("admin", "GET", "/api/tasks").json()] == [made.json()["id"]]
    assert call("admin", "PUT", url, json={"action": "cancel"}).json()["state"] == "cancelled"
    assert call("alice", "DELETE", url).status_code == 204
    assert call("alice", "GET", url).status_code == 404
