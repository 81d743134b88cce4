"""Schemathesis fuzzes every operation of the cockpit's OpenAPI schema, in-process.

Each operation gets generated parameters and bodies (valid and invalid), sent with
an admin's API key through the ASGI app. No answer may be a 5xx, and answers whose
status and media type the schema declares must match the declared schema. The
operations come from ``/openapi.json`` at run time, so routes added later are fuzzed
too. Language models are replaced by an instant stand-in (``app.state.chat_provider``
for chat sessions, ``get_provider`` of the ``/api/llm`` router and, when present, of
the OpenAI-compatible router), so fuzzing never runs a real model.

``WXAI_FUZZ_EXAMPLES`` sets the random examples per operation (default 10); the
``slow`` variant adds schemathesis' coverage phase (boundary and negative cases) and
runs 200.
"""

from __future__ import annotations

import importlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)
from schemathesis.python.asgi import get_client

from wxai.assistant.llm.types import Capabilities, ChatChunk, ChatResponse, Message
from wxai.cockpit.app import create_app
from wxai.core.settings import Settings

EXAMPLES = int(os.environ.get("WXAI_FUZZ_EXAMPLES", "10"))
SLOW_EXAMPLES = int(os.environ.get("WXAI_FUZZ_SLOW_EXAMPLES", "200"))
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
#: Operations that would end the fuzzing identity itself; the rest run with its key.
SKIPPED = {("DELETE", "/api/me/keys/{key_id}")}
#: Known schema mismatches (reported, owned elsewhere): still fuzzed for 5xx, but their
#: answers are not checked against the declared schema until fixed.
KNOWN_SCHEMA_ISSUES: set[tuple[str, str]] = set()  # (method, path) checked only for 5xx


class Instant:
    """A language model that answers at once with a fixed sentence (no tool calls)."""

    capabilities = Capabilities(native_tools=True)
    name = "instant"
    model = "instant"

    def chat(self, messages: Sequence[Message], **_: Any) -> ChatResponse:
        return ChatResponse("It is dry.", model=self.model)

    def stream(self, messages: Sequence[Message], **_: Any) -> Iterator[ChatChunk]:
        yield ChatChunk("It is dry.", finish_reason="stop")


def _instant_provider(*_: Any, **__: Any) -> Instant:
    return Instant()


def _schema_of_the_code() -> Any:
    """The schema of the app as the code defines it now (building the app starts nothing)."""
    unused = Path(tempfile.gettempdir()) / "wxai-fuzz-openapi-unused"
    app = create_app(
        Settings(home=unused, database_url=None, tracking_uri=None), start_worker=False
    )
    return schemathesis.openapi.from_dict(app.openapi())


schema = _schema_of_the_code()


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory) -> Iterator[Any]:
    """A client of the running app (in-process), whose language models answer at once."""
    home = tmp_path_factory.mktemp("fuzz-openapi")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WXAI_HOME", str(home / "env-home"))
        for module in ("wxai.cockpit.routers.llm", "wxai.cockpit.routers.openai"):
            try:
                loaded = importlib.import_module(module)
            except ImportError:
                continue
            if hasattr(loaded, "get_provider"):
                patch.setattr(loaded, "get_provider", _instant_provider)
        settings_ = Settings(home=home / "home", database_url=None, tracking_uri=None)
        app = create_app(settings_, start_worker=False)
        with get_client(app) as client:  # starts the lifespan, kept until the process ends
            assert client.get("/api/health").status_code == 200
            app.state.chat_provider = _instant_provider
            yield client


@pytest.fixture
def admin_headers(fuzz_client) -> dict[str, str]:
    """A fresh admin API key per operation (a fuzzed call may revoke one)."""
    key = fuzz_client.app.state.accounts.create_api_key("admin", "fuzz")
    return {"Authorization": f"Bearer {key.token}"}


#: Random generation only: schemathesis' explicit phases (schema examples, the coverage
#: phase's boundary and negative cases, about 50 requests per operation) run in the
#: ``slow`` variant, where shrinking also makes a failure minimal.
_PROFILE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def _run(case: Any, client: Any, headers: dict[str, str]) -> None:
    key = (case.method.upper(), case.path)
    if key in SKIPPED:
        return
    checks = [not_a_server_error] if key in KNOWN_SCHEMA_ISSUES else CHECKS
    case.call_and_validate(session=client, headers=headers, checks=checks)


@pytest.mark.timeout(60)
@schema.parametrize()
@_PROFILE
def test_fuzz_operation_never_fails_on_server(case, fuzz_client, admin_headers) -> None:
    _run(case, fuzz_client, admin_headers)


@pytest.mark.slow
@pytest.mark.timeout(600)
@schema.parametrize()
@settings(
    _PROFILE, max_examples=SLOW_EXAMPLES, phases=[Phase.explicit, Phase.generate, Phase.shrink]
)
def test_fuzz_operation_never_fails_on_server_long(case, fuzz_client, admin_headers) -> None:
    _run(case, fuzz_client, admin_headers)
