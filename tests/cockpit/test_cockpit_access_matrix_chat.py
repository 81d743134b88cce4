"""Who may do what with sessions, chat retrieval, data-file tools, figures, tasks, keys, admin.

The sibling of :mod:`test_cockpit_access_matrix` (same users, groups and dataspaces,
built by its :func:`open_world`), with every cell written out:

=====================================================================  =====
block                                                                  cells
=====================================================================  =====
sessions: 4 users x 5 sessions x 7 routes                                140
chat retrieval: 4 users x 3 dataspaces x (SSE turn, toolbox call)         24
data-file tools: 4 users x (field_value, field_map) x (by id, by name)    16
figures: 4 users x alice's map                                             4
tasks: 4 users x alice's task x (get, cancel, delete, list)               16
API keys: 4 users x revoking alice's key                                   4
admin routes: 3 non-admin users x 11 ``/api/admin`` routes                33
=====================================================================  =====

237 cells here, 369 with the 132 dataspace cells of the sibling. A denied cell
answers 404 (or leaves the resource out of a list, or the chat's tool says "no data
file") and names neither the resource nor its secret; denied writes change nothing.
Chat turns are driven by :class:`Scripted`, a provider that calls the tool written in
the user's message, so every turn runs the real chat with the real tools.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from cockpit_task_types import WaitTask
from fastapi.routing import APIRoute
from test_cockpit_access_matrix import SPACES, USERS, World, open_world

from wxai.assistant.llm.types import Capabilities, ChatChunk, ChatResponse, Message, ToolCall
from wxai.cockpit.chat_tools import build_chat_tools
from wxai.cockpit.task_types import register_task_type, unregister_task_type

A, D = "allow", "deny"
CALL = re.compile(r"CALL (\{.*\})\s*$", re.S)


@dataclass
class Scripted:
    """A provider with native tools: calls the tool the user wrote as ``CALL {json}``,
    else answers ``You said: <message>``."""

    capabilities: Capabilities = field(default_factory=lambda: Capabilities(native_tools=True))
    name: str = "scripted"
    model: str = "scripted"

    def chat(self, messages: Sequence[Message], **_: Any) -> ChatResponse:
        last = next(m for m in reversed(messages) if m.role == "user").content
        match = CALL.search(last)
        if match is None:
            return ChatResponse(f"You said: {last}")
        call = json.loads(match.group(1))
        return ChatResponse("", tool_calls=(ToolCall(call["tool"], call["arguments"], "c1"),))

    def stream(self, messages: Sequence[Message], **kwargs: Any) -> Iterator[ChatChunk]:
        yield ChatChunk(self.chat(messages, **kwargs).content, finish_reason="stop")


def _parts(response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    blocks = response.text.strip().split("\n\n")
    return [json.loads(block.split("\n", 1)[1].removeprefix("data: ")) for block in blocks]


def _turn(world: World, user: str, sid: str, text: str) -> list[dict[str, Any]]:
    response = world.call(user, "POST", f"/api/sessions/{sid}/messages", json={"text": text})
    parts = _parts(response)
    assert parts[0]["type"] == "session" and parts[-1]["type"] == "done", parts
    return parts


def _ask_tool(world: World, user: str, sid: str, words: str, tool: str, **arguments: Any):
    call = json.dumps({"tool": tool, "arguments": arguments})
    parts = _turn(world, user, sid, f"{words} CALL {call}")
    assert [p["name"] for p in parts if p["type"] == "tool_call"] == [tool], parts
    return parts


# ------------------------------------------------------------------ the world

#: session -> (owner, secret word): in the title, or for alice_answered only in the answer
SESSIONS = {
    "admin_s": ("admin", "ocelotnebula"),
    "alice_s": ("alice", "fjordlantern"),
    "bob_s": ("bob", "wombatcipher"),
    "eve_s": ("eve", "kumquatorbit"),
    "alice_answered": ("alice", "pangolinsonata"),
}
FIELD_FILE = "alice-only-field.nc"
FIELD_VALUE = "281.50"


@dataclass
class ChatWorld:
    world: World
    sessions: dict[str, str] = field(default_factory=dict)  # session key -> id
    titles: dict[str, str] = field(default_factory=dict)
    scratch: dict[str, str] = field(default_factory=dict)  # user -> a session for turns
    field_id: str = ""
    figure: str = ""
    task: str = ""
    alice_key_id: str = ""
    alice_key: str = ""


def _field_netcdf(path) -> bytes:
    ds = xr.Dataset(
        {"t2m": (("latitude", "longitude"), np.full((5, 6), 281.5), {"units": "K"})},
        coords={
            "latitude": np.linspace(50.0, 54.0, 5),
            "longitude": np.linspace(6.0, 11.0, 6),
        },
    )
    ds = ds.expand_dims(time=pd.date_range("2024-01-01", periods=1, freq="h"))
    ds.to_netcdf(path)
    return path.read_bytes()


def _new_session(world: World, user: str, title: str) -> str:
    response = world.call(user, "POST", "/api/sessions", json={"title": title})
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.fixture(scope="module")
def chat(tmp_path_factory) -> Iterator[ChatWorld]:
    root = tmp_path_factory.mktemp("chat_matrix")
    task_type = WaitTask()
    register_task_type(task_type)
    try:
        with open_world(root) as world:
            state = world.client.app.state
            state.chat_provider = lambda alias: Scripted()
            cw = ChatWorld(world)
            for key, (owner, secret) in SESSIONS.items():
                title = f"Notes of {owner} on {secret}" if key != "alice_answered" else "Plain"
                cw.titles[key] = title
                cw.sessions[key] = _new_session(world, owner, title)
            _turn(world, "alice", cw.sessions["alice_answered"], "Repeat pangolinsonata please")
            for user in USERS:
                cw.scratch[user] = _new_session(world, user, "scratch")
            url = f"/api/dataspaces/{world.ids['alice_private']}/files"
            data = _field_netcdf(root / "field.nc")
            up = world.call("alice", "POST", url, files={"file": (FIELD_FILE, data)})
            assert up.status_code == 201, up.text
            cw.field_id = up.json()["file"]["id"]
            task = world.call("alice", "POST", "/api/tasks", json={"type": "test-wait"})
            assert task.status_code == 201, task.text
            cw.task = task.json()["id"]
            accounts = state.accounts
            issued = accounts.create_api_key("alice", "second key")
            cw.alice_key_id, cw.alice_key = issued.id, issued.token
            yield cw
    finally:
        unregister_task_type(task_type.name)


# ------------------------------------------------------------------ sessions

SESSION_ROUTES = ("get", "patch", "delete", "messages", "post", "list", "search")
SESSION_MATRIX = [
    (user, key, route, A if SESSIONS[key][0] == user else D)
    for key in SESSIONS
    for route in SESSION_ROUTES
    for user in USERS
]


def _session_title(cw: ChatWorld, key: str) -> str:
    store = cw.world.client.app.state.conversations
    owner = cw.world.principal(SESSIONS[key][0])
    return store.get(owner, cw.sessions[key]).title


def _message_count(cw: ChatWorld, key: str) -> int:
    store = cw.world.client.app.state.conversations
    return len(store.messages(cw.world.principal(SESSIONS[key][0]), cw.sessions[key]))


@pytest.mark.parametrize(
    ("user", "key", "route", "outcome"),
    SESSION_MATRIX,
    ids=["-".join(row) for row in SESSION_MATRIX],
)
def test_session_matrix(chat, user, key, route, outcome):
    world, sid, title = chat.world, chat.sessions[key], chat.titles[key]
    owner, secret = SESSIONS[key]
    base = f"/api/sessions/{sid}"
    if route in {"list", "search"}:
        params = {"q": secret} if route == "search" else None
        response = world.call(user, "GET", "/api/sessions", params=params)
        assert response.status_code == 200, response.text
        assert (sid in response.text) is (outcome == A), response.text
        if outcome == D:
            assert secret not in response.text and title not in response.text
        return
    before = (_session_title(chat, key), _message_count(chat, key))
    if route == "get":
        response = world.call(user, "GET", base)
    elif route == "patch":
        response = world.call(user, "PATCH", base, json={"title": f"renamed by {user}"})
    elif route == "delete":
        target = _new_session(world, owner, title) if outcome == A else sid
        response = world.call(user, "DELETE", f"/api/sessions/{target}")
    elif route == "messages":
        response = world.call(user, "GET", f"{base}/messages")
    else:  # post
        response = world.call(user, "POST", f"{base}/messages", json={"text": "hello there"})
    if outcome == A:
        assert response.status_code == {"delete": 204}.get(route, 200), response.text
        if route == "get":
            assert response.json()["title"] == title
        if route == "patch":
            assert _session_title(chat, key) == f"renamed by {user}"
            world.call(user, "PATCH", base, json={"title": title})
        if route == "messages" and key == "alice_answered":
            assert f"You said: Repeat {secret}" in response.text
        if route == "post":
            assert _parts(response)[-1]["type"] == "done"
            assert _message_count(chat, key) == before[1] + 2
        return
    assert response.status_code == 404, response.text
    assert secret not in response.text and title not in response.text
    assert (_session_title(chat, key), _message_count(chat, key)) == before


# ------------------------------------------------------------------ chat retrieval

#: who may read each dataspace's contents (the sibling's "search" column)
READERS = {
    "alice_private": {"alice"},
    "bob_private": {"bob"},
    "forecasters": {"alice", "bob"},  # the admin manages it but reads nothing
}
RETRIEVAL_MATRIX = [
    (user, space, way, A if user in READERS[space] else D)
    for way in ("sse", "toolbox")
    for space in SPACES
    for user in USERS
]
QUERY = "password of this desk"


@pytest.fixture(scope="module")
def retrieval(chat) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """(user, way) -> the chunks to inspect: SSE parts, or the tool's own result."""
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    state = chat.world.client.app.state
    for user in USERS:
        # the chat's document rule runs search_dataspaces, as for any user's question
        parts = _turn(chat.world, user, chat.scratch[user], f"Search my documents: {QUERY}?")
        assert [p["name"] for p in parts if p["type"] == "tool_call"] == ["search_dataspaces"]
        out[user, "sse"] = parts
        box = build_chat_tools(state, chat.world.principal(user), state.settings.home)
        result = box.registry.get("search_dataspaces").function(query=QUERY, k=20)
        out[user, "toolbox"] = [
            {"type": "citations", "items": result["citations"]},
            {"type": "text", "delta": result["text"]},
        ]
    return out


@pytest.mark.parametrize(
    ("user", "space", "way", "outcome"),
    RETRIEVAL_MATRIX,
    ids=["-".join(row) for row in RETRIEVAL_MATRIX],
)
def test_chat_retrieval_matrix(retrieval, user, space, way, outcome):
    secret = SPACES[space][1]
    chunks = retrieval[user, way]
    assert not [p for p in chunks if p["type"] == "error"], chunks
    for kind in ("citations", "text", "tool_result"):
        shown = [secret in json.dumps(p) for p in chunks if p["type"] == kind]
        if outcome == D:
            assert not any(shown), (kind, chunks)
        elif kind != "tool_result":  # the summary keeps only the count
            assert shown and any(shown), (kind, chunks)
    if outcome == D:
        assert secret not in json.dumps(chunks)


# ------------------------------------------------------------------ data-file tools, figures

FIELD_MATRIX = [
    (user, tool, by, A if user == "alice" else D)
    for tool in ("field_value", "field_map")
    for by in ("id", "name")
    for user in USERS
]


@pytest.mark.parametrize(
    ("user", "tool", "by", "outcome"), FIELD_MATRIX, ids=["-".join(row) for row in FIELD_MATRIX]
)
def test_data_file_tool_matrix(chat, user, tool, by, outcome):
    ref = chat.field_id if by == "id" else FIELD_FILE
    arguments: dict[str, Any] = {"file": ref, "variable": "t2m"}
    if tool == "field_value":
        arguments |= {"latitude": 52.0, "longitude": 8.5}
    # either the chat's data-file rule or the scripted model makes the same call
    words = "Read the value at 52.0N 8.5E:" if tool == "field_value" else "Draw the map:"
    parts = _ask_tool(chat.world, user, chat.scratch[user], words, tool, **arguments)
    results = [p for p in parts if p["type"] == "tool_result"]
    errors = [p["message"] for p in parts if p["type"] == "error"]
    stream = json.dumps(parts)
    if outcome == A:
        assert len(results) == 1 and not errors, parts
        if tool == "field_value":
            assert FIELD_VALUE in results[0]["html"]
        else:
            (chat.figure,) = results[0]["figures"]
        return
    assert not results and len(errors) == 1, parts
    assert f"{tool}: no data file" in errors[0], errors
    assert FIELD_VALUE not in stream and "281.5" not in stream
    if by == "id":
        assert FIELD_FILE not in stream


FIGURE_MATRIX = [(user, A if user == "alice" else D) for user in USERS]


@pytest.mark.parametrize(
    ("user", "outcome"), FIGURE_MATRIX, ids=["-".join(r) for r in FIGURE_MATRIX]
)
def test_figure_matrix(chat, user, outcome):
    if not chat.figure:  # the map cell runs first; alone, this test makes its own map
        test_data_file_tool_matrix(chat, "alice", "field_map", "id", A)
    response = chat.world.call(user, "GET", chat.figure)
    if outcome == A:
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/png"
        assert response.content.startswith(b"\x89PNG\r\n\x1a\n")
    else:
        assert response.status_code == 404, response.text
        assert chat.figure.rsplit("/", 1)[1] not in response.text


# ------------------------------------------------------------------ tasks, keys

TASK_MATRIX = [
    (user, route, A if user in {"alice", "admin"} else D)
    for route in ("get", "cancel", "delete", "list")
    for user in USERS
]


def _task_state(chat: ChatWorld, task_id: str) -> str | None:
    response = chat.world.call("alice", "GET", f"/api/tasks/{task_id}")
    return response.json()["state"] if response.status_code == 200 else None


@pytest.mark.parametrize(
    ("user", "route", "outcome"), TASK_MATRIX, ids=["-".join(row) for row in TASK_MATRIX]
)
def test_task_matrix(chat, user, route, outcome):
    world, task = chat.world, chat.task
    if route == "list":
        response = world.call(user, "GET", "/api/tasks")
        assert response.status_code == 200, response.text
        assert (task in response.text) is (outcome == A), response.text
        return
    target = task
    if outcome == A and route in {"cancel", "delete"}:  # acts on a fresh task of alice's
        fresh = world.call("alice", "POST", "/api/tasks", json={"type": "test-wait"})
        target = fresh.json()["id"]
    before = _task_state(chat, target)
    url = f"/api/tasks/{target}"
    if route == "get":
        response = world.call(user, "GET", url)
    elif route == "cancel":
        response = world.call(user, "PUT", url, json={"action": "cancel"})
    else:
        response = world.call(user, "DELETE", url)
    if outcome == A:
        assert response.status_code == {"delete": 204}.get(route, 200), response.text
        after = {"get": before, "cancel": "cancelled", "delete": None}[route]
        assert _task_state(chat, target) == after
        return
    assert response.status_code == 404, response.text
    assert "test-wait" not in response.text
    assert _task_state(chat, target) == before == "created"


KEY_MATRIX = [(user, A if user == "alice" else D) for user in USERS]


@pytest.mark.parametrize(("user", "outcome"), KEY_MATRIX, ids=["-".join(r) for r in KEY_MATRIX])
def test_api_key_matrix(chat, user, outcome):
    world = chat.world
    accounts = world.client.app.state.accounts
    key_id, token = chat.alice_key_id, chat.alice_key
    if outcome == A:  # alice revokes a spare key of hers, not the one the others attack
        spare = accounts.create_api_key("alice", "spare")
        key_id, token = spare.id, spare.token
    response = world.call(user, "DELETE", f"/api/me/keys/{key_id}")
    me = world.client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    if outcome == A:
        assert response.status_code == 204, response.text
        assert me.status_code == 401
    else:
        assert response.status_code == 404, response.text
        assert "second key" not in response.text
        assert me.status_code == 200 and me.json()["name"] == "alice"


# ------------------------------------------------------------------ admin routes

ADMIN_BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/api/admin/users"): {
        "name": "mallory",
        "password": "long-enough-pw",
        "role": "admin",
    },
    ("PATCH", "/api/admin/users/{user_id}"): {"role": "admin", "disabled": True},
    ("POST", "/api/admin/groups"): {"name": "intruders"},
    ("PUT", "/api/admin/users/{user_id}/limits"): {"requests_per_minute": 0},
}
ADMIN_ROUTES = [
    ("GET", "/api/admin/users"),
    ("POST", "/api/admin/users"),
    ("PATCH", "/api/admin/users/{user_id}"),
    ("POST", "/api/admin/users/{user_id}/link"),
    ("GET", "/api/admin/groups"),
    ("POST", "/api/admin/groups"),
    ("PUT", "/api/admin/groups/{group_id}/members/{user_id}"),
    ("DELETE", "/api/admin/groups/{group_id}/members/{user_id}"),
    ("DELETE", "/api/admin/groups/{group_id}"),
    ("GET", "/api/admin/users/{user_id}/limits"),
    ("PUT", "/api/admin/users/{user_id}/limits"),
]
ADMIN_MATRIX = [(user, m, p, D) for m, p in ADMIN_ROUTES for user in USERS if user != "admin"]


def _app_admin_routes(app) -> set[tuple[str, str]]:
    routes = []
    for route in app.routes:
        original = getattr(route, "original_router", None)
        routes.extend(original.routes if original is not None else [route])
    return {
        (method, r.path)
        for r in routes
        if isinstance(r, APIRoute) and r.path.startswith("/api/admin")
        for method in r.methods
    }


def test_admin_rows_are_every_admin_route(chat):
    assert _app_admin_routes(chat.world.client.app) == set(ADMIN_ROUTES)


@pytest.mark.parametrize(
    ("user", "method", "path", "outcome"), ADMIN_MATRIX, ids=["-".join(r) for r in ADMIN_MATRIX]
)
def test_admin_route_matrix(chat, user, method, path, outcome):
    world = chat.world
    accounts = world.client.app.state.accounts
    target = "eve" if user != "eve" else "bob"  # the member to add, remove, promote
    url = path.format(user_id=target, group_id="forecasters")
    before = (accounts.list_users(), accounts.list_groups())
    response = world.call(user, method, url, json=ADMIN_BODIES.get((method, path)))
    assert outcome == D and response.status_code == 404, response.text
    assert response.json() == {"detail": "not found"}
    assert (accounts.list_users(), accounts.list_groups()) == before


# ------------------------------------------------------------------ the count


def test_the_docstring_counts_every_cell():
    blocks = [SESSION_MATRIX, RETRIEVAL_MATRIX, FIELD_MATRIX, FIGURE_MATRIX, TASK_MATRIX,
              KEY_MATRIX, ADMIN_MATRIX]  # fmt: skip
    sizes = [len(b) for b in blocks]
    assert sizes == [140, 24, 16, 4, 16, 4, 33]
    assert all(len(set(map(tuple, b))) == len(b) for b in blocks)
    assert f"{sum(sizes)} cells here" in (__doc__ or "")
    assert "369 with the 132" in (__doc__ or "") and sum(sizes) + 132 == 369


def test_scripted_provider_is_a_provider():
    from wxai.assistant.llm.types import LLMProvider

    assert isinstance(Scripted(), LLMProvider)
