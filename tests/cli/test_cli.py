"""The `wxai` command, run as a user would run it (a real subprocess)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

WXAI = [sys.executable, "-m", "wxai.cli"]


def run_cli(args, home: Path, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "WXAI_HOME": str(home), "MPLBACKEND": "Agg"}
    return subprocess.run(
        [*WXAI, *args], env=env, capture_output=True, text=True, timeout=300, check=False, **kwargs
    )


def test_version_and_help(tmp_path):
    out = run_cli(["--version"], tmp_path)
    assert out.returncode == 0 and out.stdout.startswith("wxai ")
    out = run_cli(["--help"], tmp_path)
    assert out.returncode == 0
    for command in ("doctor", "lab", "serve"):
        assert command in out.stdout


def test_lab_run_json_reports_acceptance(tmp_path):
    out = run_cli(["lab", "run", "sine-regression", "preset=smoke", "--json"], tmp_path)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["lab"] == "sine-regression"
    assert result["preset"] == "smoke"
    assert result["passed"] is True
    acceptance = result["acceptance"]
    assert acceptance["metric"] == "rmse" and acceptance["value"] < acceptance["threshold"]
    assert Path(result["figures"][0]).is_file()
    # the run shows up in the list and in the report
    listed = json.loads(run_cli(["lab", "list", "--json"], tmp_path).stdout)
    assert {"name": "sine-regression", "last_passed": True}.items() <= next(
        row for row in listed if row["name"] == "sine-regression"
    ).items()
    report = run_cli(["lab", "report", "--out", str(tmp_path / "site")], tmp_path)
    assert report.returncode == 0, report.stderr
    html = (tmp_path / "site" / "index.html").read_text()
    assert "sine-regression" in html and "PASS" in html


def test_failed_acceptance_exits_3(tmp_path):
    out = run_cli(
        ["lab", "run", "sine-regression", "preset=smoke", "epochs=1", "n_train=16"], tmp_path
    )
    assert out.returncode == 3
    assert "FAIL" in out.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["lab", "run", "sine-regresion"], "did you mean 'sine-regression'"),
        (["lab", "run", "sine-regression", "epochs=zero"], "invalid configuration"),
        (["lab", "run", "sine-regression", "nonsense=1"], "Could not override 'nonsense'"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path, args, needle):
    out = run_cli(args, tmp_path)
    assert out.returncode == 2
    assert needle in out.stderr
    assert "Traceback" not in out.stderr


def test_doctor_reports_assets(tmp_path):
    out = run_cli(["doctor", "--json"], tmp_path)
    checks = json.loads(out.stdout)
    assets = {c["name"]: c for c in checks if c["group"] == "assets"}
    assert {"smollm2-135m-instruct", "all-minilm-l6-v2"} <= set(assets)
    assert all(c["status"] == "ok" for c in assets.values())
    failed = [c for c in checks if c["status"] == "fail"]
    assert out.returncode == (1 if failed else 0)


@pytest.mark.e2e
def test_serve_prints_a_first_login_link_to_the_port_it_serves(tmp_path):
    import re
    import socket
    import time

    import httpx

    with socket.socket() as probe:  # a free port, not the default 8000
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "WXAI_HOME": str(tmp_path), "MPLBACKEND": "Agg"}
    env.pop("WXAI_PORT", None)
    server = subprocess.Popen(
        [*WXAI, "serve", "--port", str(port)], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline, url = time.monotonic() + 120, None
        while url is None and time.monotonic() < deadline:
            line = server.stderr.readline()
            assert line or server.poll() is None, "the server stopped before printing a link"
            found = re.search(r"http://\S+/auth/link\?token=[\w-]+", line)
            url = found.group(0) if found else None
        assert url is not None and url.startswith(f"http://127.0.0.1:{port}/auth/link")
        for _ in range(100):  # the link is printed during start-up, before uvicorn listens
            try:
                answer = httpx.get(url, follow_redirects=False, timeout=10)
                break
            except httpx.ConnectError:
                time.sleep(0.2)
        assert answer.status_code in (302, 303) and "set-cookie" in answer.headers
    finally:
        server.terminate()
        server.wait(timeout=30)
