"""Messages, tool calls, responses and the ``LLMProvider`` role shared by all providers.

Every provider (the embedded local model, Ollama, any OpenAI-compatible server)
takes the same :class:`Message` list and returns the same :class:`ChatResponse`
or a stream of :class:`ChatChunk`, so callers (tool calling, retrieval, agents,
the cockpit) never see a backend's wire format.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

Role = Literal["system", "user", "assistant", "tool"]

__all__ = [
    "Capabilities",
    "ChatChunk",
    "ChatResponse",
    "LLMProvider",
    "Message",
    "Role",
    "ToolCall",
    "ToolSpec",
]


@dataclass(frozen=True)
class ToolCall:
    """One call of a tool requested by a model.

    ``arguments`` is the decoded JSON object; a provider that receives arguments it
    cannot decode raises :class:`~wxai.core.errors.ProviderResponseError`.
    """

    name: str
    arguments: Mapping[str, Any]
    id: str = ""


@dataclass(frozen=True)
class ToolSpec:
    """A tool as a model sees it: name, description and a JSON Schema for its arguments."""

    name: str
    description: str
    parameters: Mapping[str, Any]

    def to_openai(self) -> dict[str, Any]:
        """The ``tools`` entry of the OpenAI chat-completions API (also used by Ollama)."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": dict(self.parameters),
            },
        }


@dataclass(frozen=True)
class Message:
    """One chat message.

    ``images`` holds PNG/JPEG bytes for vision-capable providers; ``tool_calls`` the
    calls an assistant message made; ``tool_call_id`` links a ``tool`` message (a
    tool's result) to the call it answers.
    """

    role: Role
    content: str = ""
    images: tuple[bytes, ...] = ()
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None

    @classmethod
    def system(cls, content: str) -> Message:
        return cls("system", content)

    @classmethod
    def user(cls, content: str, images: Sequence[bytes] = ()) -> Message:
        return cls("user", content, images=tuple(images))

    @classmethod
    def assistant(cls, content: str, tool_calls: Sequence[ToolCall] = ()) -> Message:
        return cls("assistant", content, tool_calls=tuple(tool_calls))


@dataclass(frozen=True)
class Capabilities:
    """What a provider's model can do.

    Attributes
    ----------
    native_tools:
        The backend accepts ``tools`` and returns structured tool calls.
    vision:
        The backend accepts images in user messages.
    constrained_output:
        The backend can force its output to match a JSON Schema (grammar-constrained
        decoding), so JSON it returns always validates.
    context_length:
        Context window in tokens.
    """

    native_tools: bool = False
    vision: bool = False
    constrained_output: bool = False
    context_length: int = 2048


@dataclass(frozen=True)
class ChatChunk:
    """One increment of a streamed answer: new text, and tool calls when complete."""

    delta: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str | None = None


@dataclass(frozen=True)
class ChatResponse:
    """A complete answer."""

    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str = "stop"
    model: str = ""
    usage: Mapping[str, int] = field(default_factory=dict)


@runtime_checkable
class LLMProvider(Protocol):
    """A chat model behind one interface, streaming or not.

    ``json_schema`` asks for an answer that is a JSON document valid for that schema
    (constrained decoding where :attr:`Capabilities.constrained_output` is true,
    otherwise the schema is only requested). ``tools`` offers native tools where
    :attr:`Capabilities.native_tools` is true. ``temperature=0`` is greedy decoding,
    the default, so answers are reproducible.
    """

    @property
    def name(self) -> str:
        """Backend name (``"local"``, ``"ollama"``, ``"openai-compatible"``)."""
        ...

    @property
    def model(self) -> str:
        """Model identifier at the backend."""
        ...

    @property
    def capabilities(self) -> Capabilities: ...

    def chat(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolSpec] | None = None,
        json_schema: Mapping[str, Any] | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
    ) -> ChatResponse: ...

    def stream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolSpec] | None = None,
        json_schema: Mapping[str, Any] | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
    ) -> Iterator[ChatChunk]: ...
