"""The task API: validation (400), unknown ids (404), conflicts (409), the state machine."""

from __future__ import annotations

import pytest

from wxai import __version__
from wxai.cockpit.storage import TaskState

LAB_TASK = {"type": "lab", "params": {"name": "sine-regression", "overrides": ["preset=smoke"]}}


def create(client, body=None):
    response = client.post("/api/tasks", json=body or LAB_TASK)
    assert response.status_code == 201, response.text
    return response.json()


def test_health(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}


def test_create_returns_the_created_task(client):
    task = create(client)
    assert task["state"] == "created"
    assert task["data"] == LAB_TASK
    assert task["progress"] == 0.0
    assert task["result"] is None and task["error"] is None
    assert task["created_at"] == task["updated_at"]
    assert client.get(f"/api/tasks/{task['id']}").json() == task


def test_overrides_default_to_empty(client):
    task = create(client, {"type": "lab", "params": {"name": "sine-regression"}})
    assert task["data"]["params"] == {"name": "sine-regression", "overrides": []}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"type": "lab", ', "not valid JSON"),
        ("not json at all", "not valid JSON"),
    ],
)
def test_malformed_json_is_400(client, content, expected):
    response = client.post(
        "/api/tasks", content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert expected in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, "type: Field required"),
        ({"type": "lab", "extra": 1}, "extra: Extra inputs are not permitted"),
        ({"type": "lab", "params": [1, 2]}, "params"),
        ([1, 2], "the request body must be a JSON object"),
        ({"type": "lab", "params": {}}, "name: Field required"),
        ({"type": "lab", "params": {"name": "x", "overrides": "preset=smoke"}}, "overrides"),
        ({"type": "lab", "params": {"name": "x", "typo": 1}}, "typo: Extra inputs"),
    ],
)
def test_body_not_matching_the_schema_is_400(client, body, expected):
    response = client.post("/api/tasks", json=body)
    assert response.status_code == 400, response.text
    assert expected in response.json()["detail"]


def test_missing_or_non_json_body_is_400(client):
    missing = client.post("/api/tasks")
    assert missing.status_code == 400
    assert "the request body is missing" in missing.json()["detail"]
    text = client.post(
        "/api/tasks", content=b'{"type": "lab"}', headers={"Content-Type": "text/plain"}
    )
    assert text.status_code == 400
    assert "Content-Type: application/json" in text.json()["detail"]


def test_unknown_task_type_is_400_listing_the_valid_types(client):
    response = client.post("/api/tasks", json={"type": "labb", "params": {}})
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "unknown task type 'labb'" in detail
    assert "did you mean 'lab'" in detail
    assert "Valid task type names: emulator-forecast, emulator-train, lab" in detail


def test_unknown_id_is_404(client):
    for method in ("get", "delete"):
        response = client.request(method, "/api/tasks/nope")
        assert response.status_code == 404
        assert "no task with id 'nope'" in response.json()["detail"]
    response = client.put("/api/tasks/nope", json={"action": "cancel"})
    assert response.status_code == 404


def test_unknown_action_is_400(client):
    task = create(client)
    response = client.put(f"/api/tasks/{task['id']}", json={"action": "explode"})
    assert response.status_code == 400
    assert "action" in response.json()["detail"]


def test_cancel_a_waiting_task_at_once_then_409(client):
    task = create(client)
    response = client.put(f"/api/tasks/{task['id']}", json={"action": "cancel"})
    assert response.status_code == 200
    assert response.json()["state"] == "cancelled"
    again = client.put(f"/api/tasks/{task['id']}", json={"action": "cancel"})
    assert again.status_code == 409
    assert "already cancelled" in again.json()["detail"]


def test_a_cancelled_task_is_not_executed(client, app):
    task = create(client)
    client.put(f"/api/tasks/{task['id']}", json={"action": "cancel"})
    assert app.state.worker.run_once() is False
    assert client.get(f"/api/tasks/{task['id']}").json()["state"] == "cancelled"


def test_delete(client):
    task = create(client)
    assert client.delete(f"/api/tasks/{task['id']}").status_code == 204
    assert client.get(f"/api/tasks/{task['id']}").status_code == 404
    assert client.delete(f"/api/tasks/{task['id']}").status_code == 404


def test_list_is_newest_first_and_filters_by_state(client):
    first, second, third = (create(client) for _ in range(3))
    client.put(f"/api/tasks/{second['id']}", json={"action": "cancel"})
    ids = [task["id"] for task in client.get("/api/tasks").json()]
    assert ids == [third["id"], second["id"], first["id"]]
    cancelled = client.get("/api/tasks", params={"state": "cancelled"}).json()
    assert [task["id"] for task in cancelled] == [second["id"]]
    assert len(client.get("/api/tasks", params={"limit": 1}).json()) == 1
    bad = client.get("/api/tasks", params={"state": "sleeping"})
    assert bad.status_code == 400
    assert "state" in bad.json()["detail"]


def test_worker_fails_an_unknown_lab_with_a_suggestion(client, app):
    task = create(client, {"type": "lab", "params": {"name": "sine-regresion"}})
    assert app.state.worker.run_once() is True
    stored = client.get(f"/api/tasks/{task['id']}").json()
    assert stored["state"] == "failed"
    assert "unknown lab 'sine-regresion'" in stored["error"]
    assert "did you mean 'sine-regression'" in stored["error"]


def test_worker_fails_an_invalid_override(client, app):
    params = {"name": "sine-regression", "overrides": ["preset=smoke", "epochs=-3"]}
    task = create(client, {"type": "lab", "params": params})
    app.state.worker.run_once()
    stored = client.get(f"/api/tasks/{task['id']}").json()
    assert stored["state"] == "failed"
    assert "invalid configuration for lab 'sine-regression'" in stored["error"]
    assert "epochs" in stored["error"]


def test_state_machine_to_completed(client, app, wait_task):
    task = create(client, {"type": "test-wait", "params": {"steps": 4}})
    app.state.worker.progress_interval = 0.0
    app.state.worker.run_once()
    done = client.get(f"/api/tasks/{task['id']}").json()
    assert done["state"] == "completed"
    assert done["progress"] == 1.0
    assert done["message"] == "step 4/4"
    assert done["result"] == {"steps": 4, "value": None}  # NaN is not JSON: null


@pytest.mark.parametrize(
    ("fail", "error"),
    [
        ("check", "the check of this test task fails on purpose"),
        ("runtime", "RuntimeError: boom"),
        ("wxai", "a wxai error with a clear message"),
    ],
)
def test_task_errors_become_failed_tasks(client, app, wait_task, fail, error):
    task = create(client, {"type": "test-wait", "params": {"steps": 2, "fail": fail}})
    app.state.worker.run_once()
    stored = client.get(f"/api/tasks/{task['id']}").json()
    assert stored["state"] == "failed"
    assert stored["error"] == error
    assert client.get("/api/health").status_code == 200  # the server is fine


def test_cancel_an_executing_task_cooperatively(make_client, wait_task, wait_for):
    client = make_client(start_worker=True)
    task = create(client, {"type": "test-wait", "params": {"steps": 2000, "delay": 0.01}})
    url = f"/api/tasks/{task['id']}"
    wait_for(lambda: client.get(url).json()["state"] == "executing")
    assert client.delete(url).status_code == 409  # executing: cancel first
    response = client.put(url, json={"action": "cancel"})
    assert response.status_code == 200
    assert response.json()["cancel_requested"] is True
    stopped = wait_for(lambda: (t := client.get(url).json())["state"] == "cancelled" and t)
    assert stopped["progress"] < 1.0
    assert client.put(url, json={"action": "cancel"}).status_code == 409
    assert client.delete(url).status_code == 204


def test_stopping_the_server_interrupts_the_running_task(make_client, wait_task, wait_for):
    client = make_client(start_worker=True)
    task = create(client, {"type": "test-wait", "params": {"steps": 2000, "delay": 0.01}})
    url = f"/api/tasks/{task['id']}"
    wait_for(lambda: client.get(url).json()["state"] == "executing")
    client.__exit__(None, None, None)  # lifespan shutdown stops the worker
    restarted = make_client(start_worker=False)
    stored = restarted.get(url).json()
    assert stored["state"] == "failed"
    assert stored["error"].startswith("interrupted")


def test_task_states_are_the_documented_ones():
    assert [state.value for state in TaskState] == [
        "created",
        "checked",
        "executing",
        "completed",
        "failed",
        "cancelled",
    ]
