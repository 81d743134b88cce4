"""The cockpit over real HTTP: a uvicorn process, httpx, a lab task end to end, a restart."""

from __future__ import annotations

import time

import httpx
import pytest

pytestmark = pytest.mark.e2e

#: A run that lasts long enough to be cancelled or killed while it executes.
LONG_LAB = ["preset=full"]


def lab_task(overrides: list[str]) -> dict:
    return {"type": "lab", "params": {"name": "sine-regression", "overrides": overrides}}


def post_task(client: httpx.Client, overrides: list[str]) -> dict:
    response = client.post("/api/tasks", json=lab_task(overrides))
    assert response.status_code == 201, response.text
    return response.json()


def test_health_home_and_docs(api, cockpit_server):
    assert api.get("/api/health").json()["status"] == "ok"
    home = api.get("/")
    assert home.status_code == 200
    assert "<title>Assistant - wxai</title>" in home.text
    assert 'data-testid="chat-upload"' in home.text
    labs = api.get("/labs")
    assert labs.status_code == 200
    assert 'data-testid="run-sine-regression"' in labs.text
    assert api.get("/openapi.json").json()["info"]["title"] == "wxai cockpit"
    assert api.get("/docs").status_code == 200
    with httpx.Client(base_url=cockpit_server.url, timeout=30) as anonymous:
        assert anonymous.get("/api/tasks").status_code == 401
        page = anonymous.get("/labs", headers={"Accept": "text/html"})
        assert page.status_code in (302, 303, 307)
        assert page.headers["location"].startswith("/login?next=")


def test_lab_task_runs_to_completion(api, fast_lab):
    task = post_task(api, fast_lab)
    assert task["state"] == "created"
    seen = {task["state"]}
    deadline = time.monotonic() + 120
    while task["state"] not in {"completed", "failed", "cancelled"}:
        assert time.monotonic() < deadline, task
        time.sleep(0.1)
        task = api.get(f"/api/tasks/{task['id']}").json()
        seen.add(task["state"])
    assert task["state"] == "completed", task["error"]
    assert "executing" in seen or "checked" in seen
    assert task["progress"] == 1.0
    result = task["result"]
    assert result["acceptance"]["metric"] == "rmse"
    assert result["acceptance"]["passed"] is True
    assert result["config"]["epochs"] == 10

    lab = api.get("/api/labs/sine-regression").json()
    assert lab["last_result"]["run_id"] == result["run_id"]
    figure = api.get(lab["last_result"]["figures"][0])
    assert figure.status_code == 200
    assert figure.headers["content-type"] == "image/png"
    assert figure.content.startswith(b"\x89PNG")


def test_cancel_waiting_and_executing_tasks(api, poll_task, fast_lab):
    running = post_task(api, LONG_LAB)
    queued = post_task(api, fast_lab)
    poll_task(api, running["id"], {"executing"}, timeout=60)

    cancelled = api.put(f"/api/tasks/{queued['id']}", json={"action": "cancel"})
    assert cancelled.status_code == 200
    assert cancelled.json()["state"] == "cancelled"  # it was waiting: cancelled at once

    assert api.delete(f"/api/tasks/{running['id']}").status_code == 409  # cancel first
    requested = api.put(f"/api/tasks/{running['id']}", json={"action": "cancel"})
    assert requested.status_code == 200
    assert requested.json()["cancel_requested"] is True
    stopped = poll_task(api, running["id"], {"cancelled", "completed", "failed"}, timeout=30)
    assert stopped["state"] == "cancelled"
    assert stopped["progress"] < 1.0

    again = api.put(f"/api/tasks/{running['id']}", json={"action": "cancel"})
    assert again.status_code == 409
    assert api.delete(f"/api/tasks/{running['id']}").status_code == 204
    assert api.get(f"/api/tasks/{running['id']}").status_code == 404


def test_client_errors(api):
    malformed = api.post(
        "/api/tasks", content=b'{"type": "lab"', headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 400
    assert "not valid JSON" in malformed.json()["detail"]
    wrong = api.post("/api/tasks", json={"typ": "lab"})
    assert wrong.status_code == 400
    unknown_type = api.post("/api/tasks", json={"type": "training", "params": {}})
    assert unknown_type.status_code == 400
    assert (
        "Valid task type names: emulator-forecast, emulator-train, lab"
        in unknown_type.json()["detail"]
    )
    assert api.get("/api/tasks/does-not-exist").status_code == 404
    assert api.get("/api/labs/no-such-lab").status_code == 404
    bad_name = api.get("/api/labs/sine-regression/figures/config.yaml")
    assert bad_name.status_code == 400


def test_unknown_lab_fails_at_check_with_a_suggestion(api, poll_task):
    response = api.post("/api/tasks", json={"type": "lab", "params": {"name": "sine-regresion"}})
    assert response.status_code == 201
    failed = poll_task(api, response.json()["id"], {"failed", "completed"}, timeout=60)
    assert failed["state"] == "failed"
    assert "did you mean 'sine-regression'" in failed["error"]


def test_restart_fails_the_interrupted_task_and_keeps_the_queue(
    server_factory, poll_task, fast_lab
):
    first = server_factory(None)
    with first.client() as client:
        running = post_task(client, LONG_LAB)
        queued = post_task(client, fast_lab)
        poll_task(client, running["id"], {"executing"}, timeout=60)
    first.kill()  # SIGKILL: no shutdown hook runs

    second = server_factory(first.home)
    second.use_key(first.admin_key())  # the same accounts database: the key still works
    with second.client() as client:
        interrupted = client.get(f"/api/tasks/{running['id']}").json()
        assert interrupted["state"] == "failed"
        assert interrupted["error"].startswith("interrupted")
        completed = poll_task(client, queued["id"], {"completed", "failed"}, timeout=120)
        assert completed["state"] == "completed", completed["error"]
