"""The labs API, figures, the home page and the OpenAPI docs, after one real lab task."""

from __future__ import annotations

import shutil

import pytest
from cockpit_clients import as_admin
from fastapi.testclient import TestClient

from wxai.cockpit.app import create_app
from wxai.cockpit.catalog import invalid_figure_name
from wxai.core.settings import reload_settings

#: Two tiny epochs: seconds, enough to produce a stored result with a figure.
TINY = ["preset=smoke", "epochs=2", "n_train=64"]


@pytest.fixture(scope="module")
def ran_home(tmp_path_factory, request):
    """A wxai home holding one completed sine-regression task and its run, and that task."""
    home = tmp_path_factory.mktemp("home")
    try:  # the suite's migrated, empty MLflow store saves seconds, where there is one
        template = request.getfixturevalue("_tracking_store_template")
        shutil.copyfile(template, home / "mlflow.db")
    except pytest.FixtureLookupError:
        pass
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WXAI_HOME", str(home))
        patch.delenv("WXAI_DATABASE_URL", raising=False)
        patch.delenv("WXAI_TRACKING_URI", raising=False)
        settings = reload_settings()
        with TestClient(create_app(settings, start_worker=False)) as client:
            as_admin(client)
            body = {"type": "lab", "params": {"name": "sine-regression", "overrides": TINY}}
            task = client.post("/api/tasks", json=body).json()
            client.app.state.worker.run_once()  # type: ignore[attr-defined]
            task = client.get(f"/api/tasks/{task['id']}").json()
    reload_settings()
    return home, task


@pytest.fixture
def ran(ran_home, monkeypatch):
    """A client on the home of ``ran_home``, and the completed task."""
    home, task = ran_home
    monkeypatch.setenv("WXAI_HOME", str(home))
    monkeypatch.delenv("WXAI_DATABASE_URL", raising=False)
    with TestClient(create_app(reload_settings(), start_worker=False)) as client:
        as_admin(client)
        yield client, task
    monkeypatch.undo()
    reload_settings()


def test_the_lab_task_completed_with_a_lab_result(ran):
    _, task = ran
    assert task["state"] == "completed", task["error"]
    assert task["progress"] == 1.0
    result = task["result"]
    assert result["lab"] == "sine-regression"
    assert result["preset"] == "smoke"
    assert result["config"]["epochs"] == 2
    assert set(result["acceptance"]) >= {"metric", "value", "threshold", "passed"}
    assert task["message"].startswith("rmse = ")  # the lab's acceptance line


def test_list_labs_shows_the_last_result(ran):
    client, task = ran
    labs = {lab["name"]: lab for lab in client.get("/api/labs").json()}
    lab = labs["sine-regression"]
    assert lab["day"] == 1 and lab["topic"].startswith("U3")
    assert lab["presets"][:2] == ["smoke", "full"]
    last = lab["last_result"]
    assert last["run_id"] == task["result"]["run_id"]
    assert last["acceptance"]["metric"] == "rmse"
    assert last["acceptance"]["passed"] == task["result"]["passed"]
    assert "rmse" in last["metrics"]
    assert last["duration_s"] > 0 and last["started_at"]
    assert [url.split("?")[0] for url in last["figures"]] == [
        "/api/labs/sine-regression/figures/sine_fit.png"
    ]
    assert client.get("/api/labs/sine-regression").json() == lab


def test_unknown_lab_is_404_with_the_valid_names(ran):
    client, _ = ran
    response = client.get("/api/labs/sine-regresion")
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert "did you mean 'sine-regression'" in detail
    assert "Valid lab names" in detail


def test_figure_is_served_as_png(ran):
    client, _ = ran
    url = client.get("/api/labs/sine-regression").json()["last_result"]["figures"][0]
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/labs/sine-regression/figures/missing.png", 404),
        ("/api/labs/sine-regression/figures/result.json", 400),
        ("/api/labs/sine-regression/figures/..%2Fresult.json", 404),  # never reaches a file
        ("/api/labs/sine-regression/figures/..png", 400),
        ("/api/labs/sine-regression/figures/%2E%2E", 400),
        ("/api/labs/no-such-lab/figures/sine_fit.png", 404),
    ],
)
def test_figure_names_cannot_escape(ran, path, status):
    client, _ = ran
    response = client.get(path)
    assert response.status_code == status
    assert "detail" in response.json()


def test_invalid_figure_names():
    for name in ("..", "../x.png", "a/b.png", "a\\b.png", ".hidden.png", "x.txt", "x..png"):
        assert invalid_figure_name(name), name
    assert not invalid_figure_name("sine_fit.png")


def test_labs_page(ran):
    client, _ = ran
    response = client.get("/labs")
    assert response.status_code == 200
    html = response.text
    assert "<title>Labs and tasks - wxai</title>" in html
    assert 'data-testid="run-sine-regression"' in html
    assert 'data-testid="acceptance-badge"' in html
    assert "/static/cockpit.js" in html and "/docs" in html
    assert "https://" not in html  # offline: nothing from a CDN
    assert client.get("/static/cockpit.js").status_code == 200
    assert client.get("/static/cockpit.css").status_code == 200


def test_home_page_is_the_assistant_for_the_signed_in_user(ran):
    client, _ = ran
    html = client.get("/").text
    assert "<title>Assistant - wxai</title>" in html
    shown = ["new-session", "session-list", "session-id", "composer", "chat-upload", "logout"]
    for testid in shown:
        assert f'data-testid="{testid}"' in html
    assert 'data-testid="user-name">admin<' in html
    assert "https://" not in html
    for page in ["/dataspaces", "/account", "/admin"]:
        assert client.get(page).status_code == 200, page


def test_lab_card_partial(ran):
    client, _ = ran
    response = client.get("/partials/labs/sine-regression")
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<article class="card" id="lab-sine-regression"')
    assert client.get("/partials/labs/nope").status_code == 404


def test_openapi_and_docs(ran):
    client, _ = ran
    schema = client.get("/openapi.json").json()
    assert schema["info"]["title"] == "wxai cockpit"
    assert {tag["name"] for tag in schema["tags"]} >= {"tasks", "labs", "health"}
    assert "/api/tasks/{task_id}" in schema["paths"]
    assert "400" in schema["paths"]["/api/tasks"]["post"]["responses"]
    for operations in schema["paths"].values():  # validation errors are 400, not 422
        for operation in operations.values():
            assert "422" not in operation["responses"]
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
