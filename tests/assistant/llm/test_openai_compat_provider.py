"""OpenAICompatibleProvider against a local server speaking the chat-completions protocol."""

from __future__ import annotations

import base64

import pytest

from wxai.assistant.llm.openai_compat import (
    OpenAICompatibleProvider,
    chat_completions_url,
    image_data_url,
)
from wxai.assistant.llm.types import Capabilities, LLMProvider, Message, ToolCall, ToolSpec
from wxai.core.errors import ConfigError, ProviderResponseError, ProviderUnavailable

PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 16
JPEG = b"\xff\xd8\xff\xe0" + b"\x02" * 16
WEATHER = ToolSpec(
    "get_weather",
    "Current weather at a place.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


def provider(url: str, model: str = "echo", **kwargs) -> OpenAICompatibleProvider:
    return OpenAICompatibleProvider(
        model,
        url + "/v1",
        kwargs.pop("api_key", None),
        timeout=kwargs.pop("timeout", 5.0),
        **kwargs,
    )


@pytest.mark.parametrize(
    ("base", "endpoint"),
    [
        ("https://api.openai.com/v1", "https://api.openai.com/v1/chat/completions"),
        ("https://api.openai.com/v1/", "https://api.openai.com/v1/chat/completions"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000/v1/chat/completions"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000/v1/chat/completions"),
        ("http://h:1234/v1/chat/completions", "http://h:1234/v1/chat/completions"),
        ("https://x.example/v1beta/openai", "https://x.example/v1beta/openai/chat/completions"),
    ],
)
def test_base_url_rules(base, endpoint):
    assert chat_completions_url(base) == endpoint


def test_bad_base_url_and_image_type():
    with pytest.raises(ConfigError, match="must start with http"):
        chat_completions_url("api.openai.com/v1")
    with pytest.raises(ConfigError, match="PNG, JPEG"):
        image_data_url(b"BM not an image I know")
    assert image_data_url(JPEG).startswith("data:image/jpeg;base64,")


def test_chat_non_stream_and_wire_format(openai_server):
    llm = provider(openai_server.url)
    assert isinstance(llm, LLMProvider)
    answer = llm.chat([Message.system("Be brief."), Message.user("fog?")], max_tokens=9)
    assert answer.content == "You said: fog?"
    assert answer.usage == {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}
    sent = openai_server.last
    assert sent == {
        "model": "echo",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "fog?"},
        ],
        "stream": False,
        "max_tokens": 9,
        "temperature": 0.0,
    }
    assert "authorization" not in openai_server.headers[-1]


def test_stream_deltas_add_up(openai_server):
    chunks = list(provider(openai_server.url).stream([Message.user("a warm sector")]))
    texts = [c.delta for c in chunks if c.delta]
    assert len(texts) >= 5 and "".join(texts) == "You said: a warm sector"
    assert chunks[-1].finish_reason == "stop" and chunks[-1].tool_calls == ()
    assert openai_server.last["stream"] is True


def test_streamed_tool_call_fragments_are_assembled(openai_server):
    llm = provider(openai_server.url, "tools")
    chunks = list(llm.stream([Message.user("weather?")], tools=[WEATHER]))
    with_calls = [c for c in chunks if c.tool_calls]
    assert len(with_calls) == 1 and with_calls[0] is chunks[-1]
    assert chunks[-1].finish_reason == "tool_calls"
    assert chunks[-1].tool_calls == (
        ToolCall("get_weather", {"city": "Reading", "days": 2}, "call_a"),
        ToolCall("get_time", {"tz": "UTC"}, "call_b"),
    )
    assert openai_server.last["tools"] == [WEATHER.to_openai()]


def test_non_stream_tool_calls_and_history(openai_server):
    answer = provider(openai_server.url, "tools").chat([Message.user("w?")], tools=[WEATHER])
    assert answer.tool_calls == (ToolCall("get_weather", {"city": "Reading"}, "call_a"),)
    assert answer.content == "" and answer.finish_reason == "tool_calls"
    history = [
        Message.user("w?"),
        Message.assistant("", answer.tool_calls),
        Message("tool", '{"t": 11}', tool_call_id="call_a"),
    ]
    provider(openai_server.url).chat(history)
    sent = openai_server.last["messages"]
    assert sent[1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_a",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Reading"}'},
            }
        ],
    }
    assert sent[2] == {"role": "tool", "content": '{"t": 11}', "tool_call_id": "call_a"}


@pytest.mark.parametrize("stream", [False, True])
def test_undecodable_tool_arguments(openai_server, stream):
    llm = provider(openai_server.url, "badargs")
    with pytest.raises(ProviderResponseError, match="arguments of tool 'f'"):
        if stream:
            list(llm.stream([Message.user("x")], tools=[WEATHER]))
        else:
            llm.chat([Message.user("x")], tools=[WEATHER])


def test_images_schema_and_options_on_the_wire(openai_server):
    llm = provider(
        openai_server.url,
        capabilities=Capabilities(vision=True, constrained_output=True),
        max_tokens_field="max_completion_tokens",
        send_temperature=False,
    )
    schema = {"type": "object", "properties": {"sky": {"enum": ["clear", "rain"]}}}
    answer = llm.chat([Message.user("describe", images=[PNG, JPEG])], json_schema=schema)
    assert answer.content == "You said: describe"
    sent = openai_server.last
    assert sent["messages"][0]["content"] == [
        {"type": "text", "text": "describe"},
        {
            "type": "image_url",
            "image_url": {"url": "data:image/png;base64," + base64.b64encode(PNG).decode()},
        },
        {
            "type": "image_url",
            "image_url": {"url": "data:image/jpeg;base64," + base64.b64encode(JPEG).decode()},
        },
    ]
    assert sent["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": schema, "strict": True},
    }
    assert sent["max_completion_tokens"] == 512
    assert "max_tokens" not in sent and "temperature" not in sent


def test_refuses_images_without_vision(openai_server):
    with pytest.raises(ConfigError, match="without vision"):
        provider(openai_server.url).chat([Message.user("look", images=[PNG])])


def test_server_ignoring_stream_flag(openai_server):
    chunks = list(provider(openai_server.url, "plain").stream([Message.user("hi")]))
    assert [c.delta for c in chunks] == ["You said: hi"]


def test_api_key(openai_server_with_key):
    url = openai_server_with_key.url
    good = provider(url, api_key=openai_server_with_key.api_key)
    assert good.chat([Message.user("hi")]).content == "You said: hi"
    assert openai_server_with_key.headers[-1]["authorization"] == "Bearer sk-test-123"
    wrong = provider(url, api_key="sk-wrong", api_key_env="MY_LLM_KEY")
    for call in (lambda: wrong.chat([Message.user("hi")]), lambda: list(wrong.stream([]))):
        with pytest.raises(ProviderResponseError) as err:
            call()
        message = str(err.value)
        assert "HTTP 401" in message and "Incorrect API key provided" in message
        assert "MY_LLM_KEY" in message and "sk-wrong" not in message


def test_server_down(dead_url):
    with pytest.raises(ProviderUnavailable, match=f"cannot connect to {dead_url}/v1"):
        provider(dead_url).chat([Message.user("hi")])
    with pytest.raises(ProviderUnavailable, match="base URL"):
        list(provider(dead_url).stream([Message.user("hi")]))


@pytest.mark.parametrize("stream", [False, True])
def test_http_500(openai_server, stream):
    llm = provider(openai_server.url, "fail")
    with pytest.raises(ProviderResponseError, match=r"HTTP 500 .* The server had an error"):
        list(llm.stream([Message.user("hi")])) if stream else llm.chat([Message.user("hi")])


@pytest.mark.parametrize(
    ("model", "needle"),
    [
        ("broken", "malformed stream chunk"),
        ("garbage", "not a server-sent event"),
        ("cut", "ended before the answer was complete"),
    ],
)
def test_bad_streams(openai_server, model, needle):
    chunks = []
    with pytest.raises(ProviderResponseError, match=needle):
        for chunk in provider(openai_server.url, model).stream([Message.user("hello there")]):
            chunks.append(chunk)
    assert chunks and chunks[0].delta


@pytest.mark.parametrize("stream", [False, True])
def test_timeout(openai_server, stream):
    llm = provider(openai_server.url, "slow", timeout=0.3)
    with pytest.raises(ProviderUnavailable, match=r"within the 0.3 s timeout"):
        list(llm.stream([Message.user("hi")])) if stream else llm.chat([Message.user("hi")])
