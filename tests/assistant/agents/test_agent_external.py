"""External functions: the config file, the tools it makes, and calls to a loopback service.

The only service is a uvicorn app on 127.0.0.1 started here and allow-listed
explicitly (host:port and 127.0.0.1/32); DNS is a fake; an autouse guard fails a
test that connects anywhere but loopback or looks a name up for real.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypedDict

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from langgraph.graph import END, START, StateGraph

from wxai.assistant.agents.events import AgentEvent, stream_graph
from wxai.assistant.agents.external import (
    ENV_VAR,
    ExternalCallContext,
    ExternalTools,
    load_external_functions,
    read_external_tools,
    schema_model,
)
from wxai.assistant.llm.tools.caller import ToolCaller
from wxai.assistant.llm.tools.tool import ToolRegistry, tool
from wxai.assistant.llm.types import Capabilities, ChatResponse, Message, ToolCall, ToolSpec
from wxai.core.errors import ConfigError, OutboundBlocked, ToolCallError, UnknownNameError

CONTEXT = ExternalCallContext(session_id="sess-42", user="anna")
REPO_CONFIG = Path(__file__).resolve().parents[3] / "configs" / "external_tools.yaml"

pytestmark = pytest.mark.usefixtures("only_loopback")


# -- network guard and the loopback service ------------------------------------------


def _app() -> FastAPI:
    app = FastAPI()
    app.state.bodies = []

    @app.post("/json")
    async def as_json(request: Request) -> Response:
        body = await request.json()
        app.state.bodies.append(body)
        args = body["function"]["arguments"]
        return JSONResponse({"station": args.get("station"), "state": "icy", "t_surface_c": -2.5})

    @app.post("/text")
    async def as_text(request: Request) -> Response:
        app.state.bodies.append(await request.json())
        return PlainTextResponse("Road A8 near Ulm: wet, 1.5 degC")

    @app.post("/fail")
    async def fail() -> Response:
        return PlainTextResponse("database unavailable", status_code=500)

    @app.post("/badjson")
    async def badjson() -> Response:
        return Response("{not json", media_type="application/json")

    @app.post("/slow")
    async def slow() -> Response:
        await asyncio.sleep(2.0)
        return PlainTextResponse("late")

    @app.post("/to-private")
    async def to_private() -> Response:
        return RedirectResponse("http://10.0.0.5/steal", status_code=307)

    return app


class _Server:
    def __init__(self) -> None:
        self.app = _app()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.port = int(self._socket.getsockname()[1])
        config = uvicorn.Config(
            self.app, log_level="error", lifespan="off", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            assert time.monotonic() < deadline, "loopback service did not start"
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self._socket.close()

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return self.app.state.bodies  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def service() -> Iterator[_Server]:
    running = _Server()
    yield running
    running.stop()


ROAD_SCHEMA = {
    "type": "object",
    "properties": {
        "station": {"type": "string", "description": "Station id", "minLength": 2},
        "hours_ahead": {"type": "integer", "minimum": 0, "maximum": 48, "default": 0},
        "layer": {"enum": ["surface", "subsurface"]},
        "sensors": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["station"],
}


def _write(tmp_path: Path, port: int, **overrides: Any) -> Path:
    """An external-tools file with the loopback service explicitly allow-listed."""
    functions = [
        {"name": "road_json", "url": f"http://127.0.0.1:{port}/json", "description": "Road state."},
        {"name": "road_text", "url": f"http://127.0.0.1:{port}/text", "description": "Road text."},
        {"name": "road_fail", "url": f"http://127.0.0.1:{port}/fail", "description": "Fails."},
        {"name": "road_badjson", "url": f"http://127.0.0.1:{port}/badjson", "description": "Bad."},
        {
            "name": "road_slow",
            "url": f"http://127.0.0.1:{port}/slow",
            "description": "Slow.",
            "timeout_s": 0.3,
        },
        {"name": "road_leak", "url": f"http://127.0.0.1:{port}/to-private", "description": "x"},
    ]
    for fn in functions:
        fn.setdefault("parameters", ROAD_SCHEMA)
    document = {
        "allowed_hosts": [f"127.0.0.1:{port}", "10.0.0.5"],
        "allowed_networks": ["127.0.0.1/32"],
        "max_redirects": 2,
        "functions": functions,
        **overrides,
    }
    path = tmp_path / "external_tools.yaml"
    path.write_text(json.dumps(document), encoding="utf-8")  # JSON is YAML
    return path


@pytest.fixture
def external(tmp_path: Path, service: _Server) -> ExternalTools:
    return read_external_tools(_write(tmp_path, service.port))


# -- calls ------------------------------------------------------------------------


def test_call_sends_the_exact_payload_and_returns_json(
    external: ExternalTools, service: _Server
) -> None:
    service.bodies.clear()
    road = external.tool("road_json", CONTEXT)
    result = road.invoke({"station": "A8-Ulm", "hours_ahead": "3"})
    assert result == {"station": "A8-Ulm", "state": "icy", "t_surface_c": -2.5}
    assert service.bodies == [
        {
            "session_id": "sess-42",
            "user": "anna",
            "function": {"name": "road_json", "arguments": {"station": "A8-Ulm", "hours_ahead": 3}},
        }
    ]


def test_text_answer_is_the_result(external: ExternalTools) -> None:
    assert (
        external.call("road_text", {"station": "A8"}, CONTEXT) == "Road A8 near Ulm: wet, 1.5 degC"
    )


@pytest.mark.parametrize(
    ("name", "error", "match"),
    [
        ("road_fail", ToolCallError, "answered HTTP 500: 'database unavailable'"),
        ("road_badjson", ToolCallError, "declared JSON"),
        ("road_slow", ToolCallError, "did not answer within 0.3 s"),
        ("road_leak", OutboundBlocked, r"10\.0\.0\.5 is a private address"),
    ],
    ids=["http-500", "bad-json", "timeout", "redirect-to-private"],
)
def test_failures_are_clear_errors(
    external: ExternalTools, name: str, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        external.call(name, {"station": "A8"}, CONTEXT)


def test_invalid_arguments_never_reach_the_service(
    external: ExternalTools, service: _Server
) -> None:
    service.bodies.clear()
    road = external.tool("road_json", CONTEXT)
    for bad in (
        {},
        {"station": "A"},
        {"station": "A8", "extra": 1},
        {"station": "A8", "layer": "x"},
    ):
        with pytest.raises(ToolCallError, match="invalid arguments"):
            road.invoke(bad)
    assert service.bodies == []


def test_unknown_tool_name(external: ExternalTools) -> None:
    with pytest.raises(UnknownNameError, match="did you mean 'road_json'"):
        external.call("road_jsn", {}, CONTEXT)
    registry = ToolRegistry(external.tools(CONTEXT))
    with pytest.raises(UnknownNameError):
        registry.get("nope")
    with pytest.raises(ToolCallError, match="unknown tool 'nope'"):
        registry.invoke(ToolCall("nope", {}))


def test_spec_is_what_the_model_sees(external: ExternalTools) -> None:
    spec = external.tool("road_json").spec
    assert spec.description == "Road state."
    assert spec.parameters["required"] == ["station"]
    assert spec.parameters["additionalProperties"] is False
    props = spec.parameters["properties"]
    assert props["layer"]["enum"] == ["surface", "subsurface"]
    assert props["hours_ahead"]["maximum"] == 48
    assert props["sensors"] == {"type": "array", "items": {"type": "string"}}


@tool
def wind_chill(temperature_c: float, wind_speed_kmh: float) -> float:
    """Felt temperature in wind [degC]."""
    return round(temperature_c - 0.1 * wind_speed_kmh, 1)


class _Scripted:
    """A provider with native tools that asks for the given calls."""

    def __init__(self, calls: Sequence[ToolCall]) -> None:
        self.calls = tuple(calls)

    name = "scripted"
    model = "scripted"
    capabilities = Capabilities(native_tools=True)

    def chat(self, messages: Sequence[Message], **_: Any) -> ChatResponse:
        return ChatResponse("", tool_calls=self.calls)

    def stream(self, messages: Sequence[Message], **_: Any) -> Iterator[Any]:
        raise NotImplementedError


def test_registry_mixes_local_and_external_tools_in_the_tool_caller(
    external: ExternalTools, service: _Server
) -> None:
    registry = ToolRegistry([wind_chill, *external.tools(CONTEXT)])
    calls = [
        ToolCall("wind_chill", {"temperature_c": 2, "wind_speed_kmh": 30}, id="c1"),
        ToolCall("road_json", {"station": "B10"}, id="c2"),
        ToolCall("road_fail", {"station": "B10"}, id="c3"),
    ]
    run = ToolCaller(_Scripted(calls), registry, strategy="native").run([Message.user("roads?")])
    assert run.results[0] == -1.0
    assert run.results[1]["state"] == "icy"
    assert "HTTP 500" in run.results[2]["error"]  # an error result, not a crash


class _State(TypedDict, total=False):
    station: str
    result: Any


def test_calls_emit_agent_events_inside_a_graph(external: ExternalTools) -> None:
    road = external.tool("road_json", CONTEXT)
    failing = external.tool("road_fail", CONTEXT)

    def node(state: _State) -> _State:
        with contextlib.suppress(ToolCallError):
            failing.invoke({"station": state["station"]})
        return {"result": road.invoke({"station": state["station"]})}

    graph = StateGraph(_State)
    graph.add_node("roads", node)
    graph.add_edge(START, "roads")
    graph.add_edge("roads", END)
    items = list(stream_graph(graph.compile(), {"station": "A7"}))
    events = [(i.kind, i.data.get("name")) for i in items if isinstance(i, AgentEvent)]
    assert events[1:-1] == [
        ("tool_called", "road_fail"),
        ("error", "road_fail"),
        ("tool_called", "road_json"),
        ("tool_result", "road_json"),
    ]
    called = next(i for i in items if isinstance(i, AgentEvent) and i.kind == "tool_called")
    assert called.data["arguments"] == {"station": "A7", "hours_ahead": 0}


# -- configuration -----------------------------------------------------------------


def test_shipped_config_enables_nothing() -> None:
    assert read_external_tools(REPO_CONFIG).names == []
    assert load_external_functions(REPO_CONFIG) == []


def test_env_var_points_at_another_file(
    tmp_path: Path, service: _Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_VAR, str(_write(tmp_path, service.port)))
    tools = load_external_functions(context=CONTEXT)
    assert [t.name for t in tools][:2] == ["road_json", "road_text"]


def _bad(tmp_path: Path, document: Any) -> str:
    path = tmp_path / "bad.yaml"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    with pytest.raises(ConfigError) as caught:
        read_external_tools(path)
    return str(caught.value)


FN = {"name": "f", "url": "https://api.example.org/f", "description": "F."}


@pytest.mark.parametrize(
    ("document", "match"),
    [
        ("functions: [", "not valid YAML"),
        ("- a\n- b\n", "must hold a mapping"),
        ({"allowed_hosts": ["api.example.org"], "functions": [{"name": "f"}]}, "functions.0.url"),
        (
            {"allowed_hosts": ["api.example.org"], "functions": [{**FN, "timeout_s": -1}]},
            "timeout_s",
        ),
        (
            {"allowed_hosts": ["api.example.org"], "functions": [{**FN, "name": "a b"}]},
            "functions.0.name",
        ),
        ({"allowed_hosts": ["api.example.org"], "functions": [{**FN, "secret": 1}]}, "secret"),
        ({"allowed_hosts": ["api.example.org"], "extra_key": 1}, "extra_key"),
        ({"allowed_hosts": ["http://api.example.org"], "functions": [FN]}, "allowed_hosts.0"),
        ({"allowed_networks": ["0.0.0.0/0"]}, "allowed_networks"),
        ({"functions": [FN]}, r"functions.0.url: .*not on the allow-list"),
        ({"allowed_hosts": ["api.example.org"], "functions": [FN, FN]}, "already listed"),
        (
            {
                "allowed_hosts": ["api.example.org"],
                "functions": [{**FN, "url": "file:///etc/passwd"}],
            },
            r"functions.0.url: .*scheme",
        ),
        (
            {
                "allowed_hosts": ["169.254.169.254"],
                "functions": [{**FN, "url": "http://169.254.169.254/"}],
            },
            r"functions.0.url: .*metadata",
        ),
        (
            {
                "allowed_hosts": ["api.example.org"],
                "functions": [
                    {**FN, "parameters": {"type": "object", "properties": {"x": {"oneOf": []}}}}
                ],
            },
            r"parameters.properties.x: unsupported JSON Schema keyword\(s\) oneOf",
        ),
        (
            {
                "allowed_hosts": ["api.example.org"],
                "functions": [{**FN, "parameters": {"type": "object", "required": ["y"]}}],
            },
            r"parameters.required: names no property: y",
        ),
    ],
    ids=[
        "not-yaml",
        "not-a-mapping",
        "missing-url",
        "negative-timeout",
        "bad-name",
        "unknown-function-key",
        "unknown-top-key",
        "host-entry-is-url",
        "network-too-broad",
        "url-not-allow-listed",
        "duplicate-name",
        "url-scheme",
        "url-metadata",
        "unsupported-schema",
        "required-unknown",
    ],
)
def test_invalid_config_names_the_field(tmp_path: Path, document: Any, match: str) -> None:
    import re

    message = _bad(tmp_path, document)
    assert re.search(match, message), message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=ENV_VAR):
        read_external_tools(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("schema", "good", "bad"),
    [
        ({"type": "object", "properties": {"n": {"type": "number"}}}, {"n": 1.5}, {"n": "x"}),
        ({"type": "object", "properties": {"b": {"type": "boolean"}}}, {"b": True}, {"b": "maybe"}),
        (
            {"type": "object", "properties": {"o": {"type": "object"}}, "required": ["o"]},
            {"o": {"k": 1}},
            {},
        ),
        (
            {"type": "object", "properties": {"k": {"type": "integer", "exclusiveMinimum": 0}}},
            {"k": 1},
            {"k": 0},
        ),
        ({"type": "object"}, {}, {"x": 1}),
    ],
    ids=["number", "boolean", "object", "bounds", "no-properties"],
)
def test_schema_model_types(
    schema: Mapping[str, Any], good: dict[str, Any], bad: dict[str, Any]
) -> None:
    model = schema_model("t", schema)
    model.model_validate(good)
    with pytest.raises(ValueError):
        model.model_validate(bad)


def test_schema_model_refuses_non_object() -> None:
    with pytest.raises(ConfigError, match=r"parameters.type"):
        schema_model("t", {"type": "string"})
    with pytest.raises(ConfigError, match=r"parameters.properties.x.type: 'date'"):
        schema_model("t", {"properties": {"x": {"type": "date"}}})
    with pytest.raises(ConfigError, match=r"parameters.properties.x.enum"):
        schema_model("t", {"properties": {"x": {"enum": [{"a": 1}]}}})


def test_tool_spec_and_toolspec_type(external: ExternalTools) -> None:
    assert isinstance(external.tool("road_text").spec, ToolSpec)
    assert external.function("road_slow").timeout_s == 0.3
