"""Who may do what with which dataspace: every (user x dataspace x route) cell is explicit.

Users: ``admin``; ``alice`` and ``bob`` (group ``forecasters``); ``eve`` (no group).
Dataspaces: alice's and bob's private ones, and ``forecasters`` (owned by alice, bob a
reader through the group). Each holds a document with a secret word and a NetCDF file.
A denied cell answers 404, and its body names neither the dataspace nor its secret.
Add rows to :data:`MATRIX` (and a route to :data:`ROUTES`) for new kinds of access.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from fastapi.testclient import TestClient

from pg_vector_server import drop_database, new_database
from wxai.cockpit.app import create_app
from wxai.core.settings import Settings

SPACES = {
    "alice_private": ("alice", "quetzalcoatlus"),
    "bob_private": ("bob", "xylophonist"),
    "forecasters": ("alice", "marzipanwolf"),
}
GROUP_SPACE_NAME = "Forecasters shared desk"
GROUP_SPACE_BODY = {"name": GROUP_SPACE_NAME, "group": "forecasters"}

A, D, R = "allow", "deny", "refused"  # refused: 400, a request the caller may make but not so
_ROUTE_ORDER = (
    "list",
    "get",
    "files",
    "upload",
    "download",
    "delete_file",
    "search",
    "global_search",
    "set_member",
    "remove_member",
    "delete",
)
# columns of the rows below, in _ROUTE_ORDER:
#  list get files upload download delete_file search global_search set_member remove_member delete
_OWNER_PRIVATE = dict(zip(_ROUTE_ORDER, [A, A, A, A, A, A, A, A, R, R, A], strict=True))
_NOTHING = dict.fromkeys(_ROUTE_ORDER, D)
_GROUP_READER = dict(zip(_ROUTE_ORDER, [A, A, A, D, A, D, A, A, D, D, D], strict=True))
_GROUP_ADMIN = dict(zip(_ROUTE_ORDER, [A, A, D, D, D, D, D, D, A, A, A], strict=True))
_GROUP_OWNER = dict.fromkeys(_ROUTE_ORDER, A)

#: (user, dataspace) -> route -> expected outcome; every cell written out through the rows.
EXPECTED: dict[tuple[str, str], dict[str, str]] = {
    ("admin", "alice_private"): _NOTHING,  # admins have no implicit access to private spaces
    ("admin", "bob_private"): _NOTHING,
    ("admin", "forecasters"): _GROUP_ADMIN,  # manage, but read no contents
    ("alice", "alice_private"): _OWNER_PRIVATE,
    ("alice", "bob_private"): _NOTHING,
    ("alice", "forecasters"): _GROUP_OWNER,
    ("bob", "alice_private"): _NOTHING,
    ("bob", "bob_private"): _OWNER_PRIVATE,
    ("bob", "forecasters"): _GROUP_READER,
    ("eve", "alice_private"): _NOTHING,
    ("eve", "bob_private"): _NOTHING,
    ("eve", "forecasters"): _NOTHING,
}
USERS = ("admin", "alice", "bob", "eve")


def _rows() -> list[tuple[str, str, str, str]]:
    """Every cell as (user, dataspace, route, outcome); deletions last, denied ones first."""
    rows = [
        (user, space, route, EXPECTED[user, space][route])
        for route in _ROUTE_ORDER
        if route != "delete"
        for space in SPACES
        for user in USERS
    ]
    deletes = [(u, s, "delete", EXPECTED[u, s]["delete"]) for s in SPACES for u in USERS]
    rows += sorted(deletes, key=lambda row: (row[3] == A, row[1] != "forecasters"))
    return rows


MATRIX = _rows()


def _netcdf(path: Path) -> bytes:
    ds = xr.Dataset(
        {"t2m": (("time", "lat", "lon"), np.full((2, 5, 6), 275.0), {"units": "K"})},
        coords={
            "time": pd.date_range("2024-01-01", periods=2, freq="h"),
            "lat": np.linspace(50.0, 54.0, 5),
            "lon": np.linspace(6.0, 11.0, 6),
        },
    )
    ds.to_netcdf(path)
    return path.read_bytes()


@dataclass
class World:
    client: TestClient
    keys: dict[str, str]
    ids: dict[str, str]
    docs: dict[str, str]  # space -> file id of the secret document
    names: dict[str, str]

    def call(self, user: str, method: str, url: str, **kwargs: Any):
        headers = {"Authorization": f"Bearer {self.keys[user]}"}
        return self.client.request(method, url, headers=headers, **kwargs)

    def principal(self, user: str):
        accounts = self.client.app.state.accounts  # type: ignore[attr-defined]
        return accounts.resolve(self.keys[user], "api_key")


@contextmanager
def open_world(root: Path, rag_url: str | None = None) -> Iterator[World]:
    """The app with the four users, the group and the three dataspaces (also for
    :mod:`test_cockpit_access_matrix_chat`); ``rag_url``: retrieval on PostgreSQL."""
    settings = Settings(
        home=root / "home", database_url=None, tracking_uri=None,
        rag_backend="postgres" if rag_url else "files", rag_database_url=rag_url,
        rag_ingest="request",  # indexed before the answer: the matrix tests access
    )  # fmt: skip
    with TestClient(create_app(settings, start_worker=False)) as client:
        accounts = client.app.state.accounts  # type: ignore[attr-defined]
        for name in ("alice", "bob", "eve", "dave"):
            accounts.add_user(name)
        accounts.add_group("forecasters")
        accounts.set_member("forecasters", "alice")
        accounts.set_member("forecasters", "bob")
        keys = {u: accounts.create_api_key(u, "matrix").token for u in (*USERS, "dave")}
        world = World(client, keys, {}, {}, {})
        for user in ("alice", "bob"):
            (private,) = world.call(user, "GET", "/api/dataspaces").json()
            world.ids[f"{user}_private"] = private["id"]
            world.names[f"{user}_private"] = private["name"]
        group = world.call("alice", "POST", "/api/dataspaces", json=GROUP_SPACE_BODY)
        world.ids["forecasters"] = group.json()["id"]
        world.names["forecasters"] = GROUP_SPACE_NAME
        data = _netcdf(root / "t2m.nc")
        for space, (owner, secret) in SPACES.items():
            url = f"/api/dataspaces/{world.ids[space]}/files"
            text = f"# Notes of {space}\n\nThe password of this desk is {secret}.\n"
            doc = world.call(owner, "POST", url, files={"file": ("secret.md", text.encode())})
            assert doc.status_code == 201, doc.text
            world.docs[space] = doc.json()["file"]["id"]
            nc = world.call(owner, "POST", url, files={"file": ("t2m.nc", data)})
            assert nc.status_code == 201, nc.text
        yield world


@pytest.fixture(scope="module", params=["files", "postgres"])
def world(request, tmp_path_factory) -> Iterator[World]:
    """The world with each retrieval backend: on PostgreSQL the readable dataspaces are a
    condition of the search's SQL itself."""
    rag_url = new_database() if request.param == "postgres" else None
    with open_world(tmp_path_factory.mktemp("matrix"), rag_url) as built:
        assert built.client.app.state.dataspaces.backend == request.param  # type: ignore[attr-defined]
        yield built
    if rag_url:
        drop_database(rag_url)


def _scratch_file(world: World, space: str) -> str:
    owner = SPACES[space][0]
    spaces = world.client.app.state.dataspaces  # type: ignore[attr-defined]
    record, _ = spaces.add_file(
        world.principal(owner), world.ids[space], "scratch.txt", b"scratch text\n"
    )
    return record.id


def _target(world: World, space: str, route: str) -> str:
    """The dataspace a cell acts on: deleting the group space acts on a fresh twin of it."""
    if route == "delete" and space == "forecasters":
        twin = world.call("alice", "POST", "/api/dataspaces", json=GROUP_SPACE_BODY)
        return twin.json()["id"]
    return world.ids[space]


Route = Callable[[World, str, str, str], Any]


def _run(world: World, user: str, space: str, route: str):  # noqa: PLR0911
    sid = _target(world, space, route)
    base = f"/api/dataspaces/{sid}"
    secret = SPACES[space][1]
    if route == "list":
        return world.call(user, "GET", "/api/dataspaces")
    if route == "get":
        return world.call(user, "GET", base)
    if route == "files":
        return world.call(user, "GET", f"{base}/files")
    if route == "upload":
        body = {"file": (f"from-{user}.md", b"# An ordinary note\n")}
        return world.call(user, "POST", f"{base}/files", files=body)
    if route == "download":
        return world.call(user, "GET", f"{base}/files/{world.docs[space]}")
    if route == "delete_file":
        return world.call(user, "DELETE", f"{base}/files/{_scratch_file(world, space)}")
    if route == "search":
        return world.call(user, "GET", f"{base}/search", params={"q": secret, "k": 10})
    if route == "global_search":
        return world.call(user, "GET", "/api/search", params={"q": secret, "k": 10})
    if route == "set_member":
        return world.call(user, "PUT", f"{base}/members", json={"user": "dave", "role": "reader"})
    if route == "remove_member":
        if space == "forecasters":  # dave is a member before every attempt
            spaces = world.client.app.state.dataspaces  # type: ignore[attr-defined]
            spaces.set_member(world.principal("alice"), sid, user="dave", role="reader")
        return world.call(user, "DELETE", f"{base}/members/user/dave")
    if route == "delete":
        return world.call(user, "DELETE", base)
    raise AssertionError(f"no such route in the matrix: {route}")


_ALLOWED_STATUS = {"upload": 201, "delete_file": 204, "remove_member": 204, "delete": 204}


@pytest.mark.parametrize(
    ("user", "space", "route", "outcome"), MATRIX, ids=["-".join(row) for row in MATRIX]
)
def test_access_matrix(world, user, space, route, outcome):
    response = _run(world, user, space, route)
    sid, secret, name = world.ids[space], SPACES[space][1], world.names[space]
    if route in {"list", "global_search"}:  # these list what is visible: never 404
        assert response.status_code == 200, response.text
        shown = sid in response.text if route == "list" else secret in response.text
        assert shown is (outcome == A), response.text
        if outcome == D:
            assert name not in response.text and secret not in response.text
        return
    if outcome == A:
        assert response.status_code == _ALLOWED_STATUS.get(route, 200), response.text
        if route in {"download", "search"}:
            assert secret in response.text
    elif outcome == R:
        assert response.status_code == 400, response.text
        assert "private" in response.json()["detail"]
    else:
        assert response.status_code == 404, response.text
        assert name not in response.text and secret not in response.text
        assert "(private)" not in response.text


def test_the_matrix_covers_every_cell():
    cells = {(u, s, r) for u, s, r, _ in MATRIX}
    assert len(cells) == len(MATRIX) == len(USERS) * len(SPACES) * len(_ROUTE_ORDER)


def test_a_disabled_users_key_stops_working(world):
    accounts = world.client.app.state.accounts  # type: ignore[attr-defined]
    accounts.add_user("frank")
    accounts.set_member("forecasters", "frank")
    world.keys["frank"] = accounts.create_api_key("frank", "matrix").token
    sid = world.ids["forecasters"]
    probes = [
        ("GET", "/api/dataspaces", {}),
        ("GET", f"/api/dataspaces/{sid}/files", {}),
        ("GET", "/api/search", {"params": {"q": "marzipanwolf"}}),
        ("POST", f"/api/dataspaces/{sid}/files", {"files": {"file": ("x.md", b"# x\n")}}),
    ]
    assert world.call("frank", "GET", f"/api/dataspaces/{sid}/files").status_code == 200
    accounts.set_disabled("frank", True)
    for method, url, kwargs in probes:
        response = world.call("frank", method, url, **kwargs)
        assert response.status_code == 401, (url, response.text)
        assert "marzipanwolf" not in response.text


def test_a_removed_membership_ends_retrieval_at_once(world):
    spaces = world.client.app.state.dataspaces  # type: ignore[attr-defined]
    bob = world.principal("bob")
    assert any("marzipanwolf" in hit.text for hit in spaces.search(bob, "marzipanwolf", k=10))
    accounts = world.client.app.state.accounts  # type: ignore[attr-defined]
    accounts.set_member("forecasters", "bob", member=False)
    bob_now = world.principal("bob")
    assert all("marzipanwolf" not in hit.text for hit in spaces.search(bob_now, "marzipanwolf"))
    with pytest.raises(LookupError):
        spaces.data_file(bob_now, world.docs["forecasters"])
    accounts.set_member("forecasters", "bob")
