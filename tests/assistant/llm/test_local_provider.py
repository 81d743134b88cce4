"""The embedded SmolLM2 model for real, and llama.cpp's HTTP server behind it."""

from __future__ import annotations

import json
import time

import pytest
from pydantic import BaseModel, ConfigDict

from wxai.assistant.llm.local import LocalProvider
from wxai.assistant.llm.openai_compat import OpenAICompatibleProvider
from wxai.assistant.llm.types import LLMProvider, Message, ToolSpec
from wxai.core.errors import ConfigError, ProviderResponseError

QUESTION = [Message.system("You are a weather expert."), Message.user("What is a cold front?")]
TOKENS = 16


class Observation(BaseModel):
    """The structured answer asked for with ``json_schema``."""

    model_config = ConfigDict(extra="forbid")

    sky: str
    temperature_c: int


SCHEMA = {
    "type": "object",
    "properties": {
        "sky": {"type": "string", "enum": ["clear", "cloudy", "rain", "snow"]},
        "temperature_c": {"type": "integer", "minimum": -60, "maximum": 60},
    },
    "required": ["sky", "temperature_c"],
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def local() -> LocalProvider:
    return LocalProvider()


@pytest.fixture(scope="module")
def greedy_answer(local) -> str:
    return local.chat(QUESTION, max_tokens=TOKENS).content


def test_chat_answers_and_is_reproducible(local, greedy_answer):
    assert isinstance(local, LLMProvider)
    answer = local.chat(QUESTION, max_tokens=TOKENS)
    assert len(answer.content.split()) >= 5
    assert answer.finish_reason == "length"
    assert answer.usage["completion_tokens"] == TOKENS
    assert answer.content == greedy_answer  # greedy decoding: same input, same answer


def test_stream_adds_up_to_the_greedy_answer(local, greedy_answer):
    chunks = list(local.stream(QUESTION, max_tokens=TOKENS))
    pieces = [c.delta for c in chunks if c.delta]
    assert len(pieces) >= 5
    assert "".join(pieces) == greedy_answer
    assert chunks[-1].finish_reason == "length"


def test_closing_a_stream_stops_the_generation(local):
    chunks = local.stream([Message.user("Tell me a long story about clouds.")], max_tokens=1500)
    assert next(chunks).delta is not None and next(chunks) and next(chunks)
    start = time.perf_counter()
    chunks.close()  # what a `break`, Ctrl-C or a dropped client does
    assert time.perf_counter() - start < 3.0
    # llama.cpp stopped too: the next request is not queued behind ~1500 tokens.
    start = time.perf_counter()
    local.chat([Message.user("Hi")], max_tokens=2)
    assert time.perf_counter() - start < 5.0


@pytest.mark.parametrize(
    "prompt",
    ["Report the weather in Oslo.", "It is 31 degrees and sunny in Rome.", "Snow storm!"],
)
def test_json_schema_output_always_validates(local, prompt):
    answer = local.chat([Message.user(prompt)], json_schema=SCHEMA, max_tokens=48)
    observation = Observation.model_validate(json.loads(answer.content))
    assert observation.sky in {"clear", "cloudy", "rain", "snow"}
    assert -60 <= observation.temperature_c <= 60


def test_refuses_images_and_native_tools(local):
    with pytest.raises(ConfigError, match="cannot read images"):
        local.chat([Message.user("what is this?", images=[b"\x89PNG\r\n\x1a\n"])])
    with pytest.raises(ConfigError, match="cannot read images"):
        list(local.stream([Message.user("what is this?", images=[b"\x89PNG\r\n\x1a\n"])]))
    tool = ToolSpec("f", "a tool", {"type": "object", "properties": {}})
    with pytest.raises(ConfigError, match="no native tool calling"):
        local.chat([Message.user("hi")], tools=[tool])


# -- the same model behind llama.cpp's OpenAI-compatible HTTP server --------------------


@pytest.fixture(scope="module")
def over_http(local) -> OpenAICompatibleProvider:
    engine = local.engine
    return OpenAICompatibleProvider(
        local.model, engine.base_url, engine.api_key, timeout=60, api_key_env="LLAMA_KEY"
    )


def test_real_openai_compatible_server(over_http, greedy_answer):
    assert over_http.url.startswith("http://127.0.0.1:")
    assert over_http.url.endswith("/v1/chat/completions")
    answer = over_http.chat(QUESTION, max_tokens=TOKENS)
    assert answer.content == greedy_answer
    assert answer.finish_reason == "length"
    chunks = list(over_http.stream(QUESTION, max_tokens=TOKENS))
    assert len([c for c in chunks if c.delta]) >= 5
    assert "".join(c.delta for c in chunks) == greedy_answer


def test_real_server_constrained_json(over_http):
    answer = over_http.chat(
        [Message.user("Report the weather in Oslo.")], json_schema=SCHEMA, max_tokens=48
    )
    Observation.model_validate(json.loads(answer.content))


def test_real_server_rejects_a_wrong_key(local):
    wrong = OpenAICompatibleProvider(
        local.model, local.engine.base_url, "not-the-key", timeout=10, api_key_env="LLAMA_KEY"
    )
    with pytest.raises(ProviderResponseError, match=r"HTTP 401.*Invalid API Key.*LLAMA_KEY"):
        wrong.chat(QUESTION, max_tokens=4)
    with pytest.raises(ProviderResponseError, match="HTTP 401"):
        list(wrong.stream(QUESTION, max_tokens=4))


def test_runs_beside_the_weather_data_libraries():
    """netCDF4, cftime and ecCodes break llama.cpp in one process; the child keeps them apart."""
    import subprocess
    import sys

    code = (
        "import netCDF4, cftime, eccodes, xarray\n"
        "from wxai.assistant.llm.local import LocalProvider\n"
        "from wxai.assistant.llm.types import Message\n"
        "print(LocalProvider().chat([Message.user('Hi')], max_tokens=3).finish_reason)\n"
    )
    command = [sys.executable, "-c", code]
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "length"


def test_a_dead_model_process_is_restarted(local):
    engine = local.engine
    engine.process.kill()
    engine.process.wait(10)
    answer = local.chat([Message.user("Hi")], max_tokens=3)
    assert answer.finish_reason == "length"
    assert local.engine.process.pid != engine.process.pid
