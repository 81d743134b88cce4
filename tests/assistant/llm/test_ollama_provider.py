"""OllamaProvider against a local server that speaks Ollama's REST API."""

from __future__ import annotations

import base64

import pytest

from wxai.assistant.llm.ollama import OllamaProvider
from wxai.assistant.llm.types import (
    Capabilities,
    LLMProvider,
    Message,
    ToolCall,
    ToolSpec,
)
from wxai.core.errors import ConfigError, ProviderResponseError, ProviderUnavailable

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
WEATHER = ToolSpec(
    "get_weather",
    "Current weather at a place.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


def provider(url: str, model: str = "echo", **kwargs) -> OllamaProvider:
    return OllamaProvider(model, url, timeout=kwargs.pop("timeout", 5.0), **kwargs)


def test_chat_non_stream_and_wire_format(ollama_server):
    llm = provider(ollama_server.url)
    assert isinstance(llm, LLMProvider)
    answer = llm.chat([Message.system("Be brief."), Message.user("rain tomorrow?")], max_tokens=7)
    assert answer.content == "You said: rain tomorrow?"
    assert answer.finish_reason == "stop"
    assert answer.usage == {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12}
    sent = ollama_server.last
    assert sent["model"] == "echo" and sent["stream"] is False
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "rain tomorrow?"},
    ]
    assert sent["options"] == {"num_predict": 7, "temperature": 0.0, "top_k": 1}
    assert "tools" not in sent and "format" not in sent


def test_stream_yields_pieces_that_add_up(ollama_server):
    llm = provider(ollama_server.url)
    chunks = list(llm.stream([Message.user("a cold front passes")], temperature=0.7))
    texts = [c.delta for c in chunks if c.delta]
    assert len(texts) >= 5
    assert "".join(texts) == "You said: a cold front passes"
    assert chunks[-1].finish_reason == "stop"
    assert ollama_server.last["stream"] is True
    assert ollama_server.last["options"] == {"num_predict": 512, "temperature": 0.7}


def test_tool_calls_and_history_on_the_wire(ollama_server):
    llm = provider(ollama_server.url, "tools")
    answer = llm.chat([Message.user("weather in Reading?")], tools=[WEATHER])
    assert answer.tool_calls == (
        ToolCall("get_weather", {"city": "Reading"}),
        ToolCall("get_time", {}),
    )
    assert ollama_server.last["tools"] == [WEATHER.to_openai()]
    streamed = list(llm.stream([Message.user("weather?")], tools=[WEATHER]))
    assert [c.tool_calls for c in streamed if c.tool_calls] == [answer.tool_calls]
    # a conversation that already holds a tool call and its result
    history = [
        Message.user("weather?"),
        Message.assistant("", [ToolCall("get_weather", {"city": "Reading"}, "c1")]),
        Message("tool", '{"t": 11}', tool_call_id="c1"),
    ]
    provider(ollama_server.url).chat(history)
    sent = ollama_server.last["messages"]
    assert sent[1]["tool_calls"] == [
        {"function": {"name": "get_weather", "arguments": {"city": "Reading"}}}
    ]
    assert sent[2] == {"role": "tool", "content": '{"t": 11}', "tool_call_id": "c1"}


def test_undecodable_tool_arguments(ollama_server):
    with pytest.raises(ProviderResponseError, match="arguments of get_weather"):
        provider(ollama_server.url, "badargs").chat([Message.user("x")], tools=[WEATHER])


def test_images_and_schema_on_the_wire(ollama_server):
    vision = provider(ollama_server.url, capabilities=Capabilities(vision=True))
    schema = {"type": "object", "properties": {"sky": {"enum": ["clear", "rain"]}}}
    vision.chat([Message.user("what is in it?", images=[PNG])], json_schema=schema)
    sent = ollama_server.last
    assert sent["messages"][0]["images"] == [base64.b64encode(PNG).decode()]
    assert sent["format"] == schema


def test_refuses_what_the_model_cannot_do(ollama_server):
    count = len(ollama_server.requests)
    blind = provider(ollama_server.url, capabilities=Capabilities(native_tools=False))
    with pytest.raises(ConfigError, match="without vision"):
        blind.chat([Message.user("look", images=[PNG])])
    with pytest.raises(ConfigError, match="without native tool calling"):
        blind.chat([Message.user("x")], tools=[WEATHER])
    assert len(ollama_server.requests) == count  # nothing was sent


def test_generate_streamed_and_not(ollama_server):
    llm = provider(ollama_server.url)
    assert llm.generate("Explain self-attention.") == "You said: Explain self-attention."
    pieces = list(llm.stream_generate("Explain self-attention.", system="Be brief."))
    assert len(pieces) > 3 and "".join(pieces) == "You said: Explain self-attention."
    assert ollama_server.last["prompt"] == "Explain self-attention."
    assert ollama_server.last["system"] == "Be brief."


def test_base_url_forms(ollama_server):
    assert provider(ollama_server.url + "/api/").base_url == ollama_server.url
    with pytest.raises(ConfigError, match="must start with http"):
        OllamaProvider("echo", "127.0.0.1:11434")


def test_server_down(dead_url):
    with pytest.raises(ProviderUnavailable) as err:
        provider(dead_url).chat([Message.user("hi")])
    message = str(err.value)
    assert dead_url in message and "ollama serve" in message and "WXAI_OLLAMA_URL" in message
    with pytest.raises(ProviderUnavailable):
        list(provider(dead_url).stream([Message.user("hi")]))


@pytest.mark.parametrize("stream", [False, True])
def test_http_errors(ollama_server, stream):
    def call(llm):
        if stream:
            return list(llm.stream([Message.user("hi")]))
        return llm.chat([Message.user("hi")])

    with pytest.raises(ProviderResponseError, match=r"HTTP 500.*llama runner process"):
        call(provider(ollama_server.url, "fail"))
    with pytest.raises(ProviderResponseError, match=r"HTTP 404.*ollama pull missing"):
        call(provider(ollama_server.url, "missing"))


@pytest.mark.parametrize(
    ("model", "needle"),
    [
        ("broken", "malformed stream line"),
        ("errline", "out of memory"),
        ("cut", "ended before the answer was done"),
    ],
)
def test_bad_streams(ollama_server, model, needle):
    chunks = []
    with pytest.raises(ProviderResponseError, match=needle):
        for chunk in provider(ollama_server.url, model).stream([Message.user("hello there")]):
            chunks.append(chunk)
    assert chunks and chunks[0].delta  # the good part arrived before the failure


def test_malformed_non_stream_answer(ollama_server):
    with pytest.raises(ProviderResponseError, match="not JSON"):
        provider(ollama_server.url, "broken").chat([Message.user("hi")])


def test_timeout(ollama_server):
    with pytest.raises(ProviderUnavailable, match=r"0.3 s timeout"):
        provider(ollama_server.url, "slow", timeout=0.3).chat([Message.user("hi")])
