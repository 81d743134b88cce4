"""deploy/compose.yaml, read as YAML (no Docker here): services, health checks, settings.

Compose's ``${VAR:-default}`` / ``${VAR:?message}`` interpolation is applied here with a
small resolver so that values such as the database URL can be checked as they would be
on a host.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from sqlalchemy.engine import make_url

from wxai.cli.app import app as cli_app
from wxai.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
NGINX_TEMPLATE = DEPLOY / "nginx" / "wxai.conf"
WXAI_SERVICES = ("migrate", "cockpit", "worker")
HOST_ENV = {"WXAI_SERVER_NAME": "wxai.example.org", "POSTGRES_PASSWORD": "s3cret"}
_VARIABLE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?:(:-|:\?)([^}]*))?\}")


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """``value`` with compose's variable forms replaced, recursively; a missing ``:?`` fails."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        name, form, extra = match.groups()
        if env.get(name):
            return env[name]
        if form == ":?":
            raise AssertionError(f"{name} is required: {extra}")
        return extra if form == ":-" else ""

    return _VARIABLE.sub(one, value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return interpolate(yaml.safe_load(COMPOSE.read_text()), HOST_ENV)


def _env(service: dict[str, Any]) -> dict[str, str]:
    return {key: str(value) for key, value in service.get("environment", {}).items()}


def test_required_variables_must_be_set() -> None:
    raw = yaml.safe_load(COMPOSE.read_text())
    with pytest.raises(AssertionError, match="POSTGRES_PASSWORD"):
        interpolate(raw, {"WXAI_SERVER_NAME": "wxai.example.org"})
    with pytest.raises(AssertionError, match="WXAI_SERVER_NAME"):
        interpolate(raw, {"POSTGRES_PASSWORD": "x"})


def test_every_service_has_an_image_that_exists(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "migrate", "cockpit", "worker", "nginx"}
    for name, service in services.items():
        assert "image" in service or "build" in service, name
        build = service.get("build")
        if build is not None:
            context = (DEPLOY / build["context"]).resolve()
            assert context == ROOT, name
            assert (context / build["dockerfile"]).is_file(), name
    for name in WXAI_SERVICES:  # one image, built once, for all three
        assert services[name]["image"] == services["cockpit"]["image"]
    # PostgreSQL with pgvector: the dataspaces' retrieval index lives there too
    assert services["postgres"]["image"].startswith("pgvector/pgvector:pg")
    assert compose["x-wxai-env"]["WXAI_RAG_BACKEND"] == "postgres"
    assert services["nginx"]["image"].startswith("nginx:")


def test_health_checks_and_start_order(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert "/api/health" in " ".join(services["cockpit"]["healthcheck"]["test"])
    for name in WXAI_SERVICES:
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("cockpit", "worker"):
        assert (
            services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        )
    assert services["nginx"]["depends_on"]["cockpit"]["condition"] == "service_healthy"
    volumes = services["postgres"]["volumes"]
    assert any(v.split(":")[0] in compose["volumes"] for v in volumes)  # data survives


def test_cockpit_and_workers_share_the_database_and_the_home(compose: dict[str, Any]) -> None:
    services = compose["services"]
    cockpit, worker = _env(services["cockpit"]), _env(services["worker"])
    url = make_url(cockpit["WXAI_DATABASE_URL"])
    assert url.drivername == "postgresql+psycopg"
    assert (url.host, url.username, url.password, url.database) == (
        "postgres",
        "wxai",
        "s3cret",
        "wxai",
    )
    postgres_env = services["postgres"]["environment"]
    assert (postgres_env["POSTGRES_USER"], postgres_env["POSTGRES_DB"]) == ("wxai", "wxai")
    assert cockpit["WXAI_EMBEDDED_WORKER"] == "false"
    for name in WXAI_SERVICES:
        env = _env(services[name])
        assert env["WXAI_DATABASE_URL"] == cockpit["WXAI_DATABASE_URL"], name
        mounts = dict(v.split(":")[:2] for v in services[name]["volumes"])
        assert mounts.get("wxai-home") == env["WXAI_HOME"], name
    assert "wxai-home" in compose["volumes"]
    assert services["worker"]["deploy"]["replicas"] == 2
    assert worker["WXAI_HOME"] == cockpit["WXAI_HOME"]


def _names_read_by_wxai() -> set[str]:
    """Every ``WXAI_*`` name the sources or configs mention (the model registry reads some)."""
    found: set[str] = set()
    for path in [*(ROOT / "src" / "wxai").rglob("*.py"), *(ROOT / "configs").rglob("*.yaml")]:
        found.update(re.findall(r"WXAI_[A-Z_]+", path.read_text(errors="replace")))
    return found


def test_settings_are_real_and_behind_tls(compose: dict[str, Any]) -> None:
    known = {f"WXAI_{field.upper()}" for field in Settings.model_fields} | _names_read_by_wxai()
    for name in WXAI_SERVICES:
        for key in _env(compose["services"][name]):
            if key.startswith("WXAI_"):
                assert key in known, f"{name}: {key} is read by nothing in wxai (a typo?)"
    cockpit = _env(compose["services"]["cockpit"])
    settings = Settings(**{k[5:].lower(): v for k, v in cockpit.items() if k.startswith("WXAI_")})
    assert settings.cookie_secure is True
    assert settings.cockpit_url == "https://wxai.example.org"
    assert "wxai.example.org" in settings.allowed_hosts.split(",")
    assert cockpit["FORWARDED_ALLOW_IPS"]  # uvicorn believes nginx's X-Forwarded-Proto


def test_commands_are_wxai_commands(compose: dict[str, Any]) -> None:
    root: Any = typer.main.get_command(cli_app)  # a click group (typer's own click)
    for name in ("cockpit", "worker", "migrate"):
        args = list(compose["services"][name]["command"])
        command, words = root, []
        while hasattr(command, "commands"):  # down the groups: wxai db upgrade
            assert args, f"{name}: {' '.join(words)} needs a subcommand"
            words.append(args.pop(0))
            assert words[-1] in command.commands, f"{name}: no command `wxai {' '.join(words)}`"
            command = command.commands[words[-1]]
        context = command.make_context(words[-1], args)  # unknown options raise
        if words == ["serve"]:
            assert context.params["workers"] == 4
            assert context.params["host"] == "0.0.0.0"
    assert compose["services"]["migrate"]["command"] == ["db", "upgrade"]


def test_only_nginx_is_published_and_it_fills_every_placeholder(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        if name != "nginx":
            assert "ports" not in service, f"{name} must not be published past nginx"
    assert sorted(services["nginx"]["ports"]) == ["443:443", "80:80"]
    mounts = {v.split(":")[0]: v.split(":")[1] for v in services["nginx"]["volumes"]}
    assert (DEPLOY / "nginx" / "wxai.conf").resolve() == (DEPLOY / "./nginx/wxai.conf").resolve()
    assert mounts["./nginx/wxai.conf"].startswith("/etc/nginx/templates/")
    assert mounts["./nginx/wxai.conf"].endswith(".conf.template")
    env = _env(services["nginx"])
    needed = set(re.findall(r"\$\{(WXAI_[A-Z_]+)\}", NGINX_TEMPLATE.read_text()))
    assert needed <= set(env), f"nginx lacks {sorted(needed - set(env))}"
    assert re.match(env["NGINX_ENVSUBST_FILTER"], "WXAI_TLS_CERT")
    assert not re.match(env["NGINX_ENVSUBST_FILTER"], "host")  # nginx's $host stays
    # nginx's body limit leaves 1 MiB of multipart framing over the cockpit's own limit.
    upload_mb = float(_env(services["cockpit"])["WXAI_UPLOAD_MAX_MB"])
    assert env["WXAI_CLIENT_MAX_BODY_SIZE"] == f"{int(upload_mb) + 1}m"
    assert upload_mb == Settings.model_fields["upload_max_mb"].default
