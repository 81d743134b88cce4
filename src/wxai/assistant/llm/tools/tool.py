"""A ``Tool``: a typed Python function with the JSON Schema a model sees, and a registry.

Examples
--------
>>> @tool
... def wind_chill(temperature_c: float, wind_speed_kmh: float) -> float:
...     '''Felt temperature in wind [degC].'''
...     return temperature_c
>>> wind_chill.spec.parameters["required"]
['temperature_c', 'wind_speed_kmh']
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, overload

from pydantic import BaseModel, ValidationError

from wxai.assistant.llm.tools.schema import arguments_model, arguments_schema, docstring_parts
from wxai.assistant.llm.types import ToolCall, ToolSpec
from wxai.core.errors import ConfigError, ToolCallError, UnknownNameError

__all__ = ["Tool", "ToolExample", "ToolRegistry", "tool"]


@dataclass(frozen=True)
class ToolExample:
    """A request and the arguments the tool should be called with (for few-shot prompts)."""

    prompt: str
    arguments: Mapping[str, Any]


@dataclass(frozen=True)
class Tool:
    """A function a language model may call.

    Attributes
    ----------
    spec:
        Name, description and arguments JSON Schema, as the model sees them.
    function:
        The Python function that runs the call.
    model:
        pydantic model of the arguments; it built ``spec.parameters`` and validates calls.
    examples:
        Example requests with their arguments, for few-shot prompting (never part
        of the schema).
    requests:
        Short example requests the tool answers, for semantic routing
        (:class:`~wxai.assistant.llm.tools.router.SemanticRouter` matches a user's
        request against them and the description).
    """

    spec: ToolSpec
    function: Callable[..., Any]
    model: type[BaseModel]
    examples: tuple[ToolExample, ...] = field(default=())
    requests: tuple[str, ...] = field(default=())

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def description(self) -> str:
        return self.spec.description

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the underlying function directly (no validation)."""
        return self.function(*args, **kwargs)

    def validate(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """The validated arguments (defaults filled in, values coerced to their types).

        Raises
        ------
        ToolCallError
            The arguments do not match the schema; the message lists every problem.
        """
        if not isinstance(arguments, Mapping):
            kind = type(arguments).__name__
            raise ToolCallError(f"tool {self.name!r}: arguments must be a JSON object, got {kind}")
        try:
            parsed = self.model.model_validate(dict(arguments))
        except ValidationError as exc:
            problems = "; ".join(_describe(err) for err in exc.errors())
            raise ToolCallError(f"tool {self.name!r}: invalid arguments: {problems}") from None
        return {name: getattr(parsed, name) for name in type(parsed).model_fields}

    def invoke(self, arguments: Mapping[str, Any]) -> Any:
        """Validate ``arguments`` and run the function with them."""
        return self.function(**self.validate(arguments))

    def with_description(self, description: str) -> Tool:
        """The same tool, shown to models with another description."""
        return replace(self, spec=replace(self.spec, description=description))

    @property
    def routing_texts(self) -> tuple[str, ...]:
        """Texts that characterise the tool: description, example requests, few-shot prompts."""
        return (self.description, *self.requests, *(e.prompt for e in self.examples))


def _describe(error: Mapping[str, Any]) -> str:
    where = ".".join(str(p) for p in error.get("loc", ())) or "arguments"
    if error.get("type") == "extra_forbidden":
        return f"unexpected argument {where!r}"
    if error.get("type") == "missing":
        return f"missing required argument {where!r}"
    return f"{where}: {error.get('msg', 'invalid')} (got {error.get('input')!r})"


@overload
def tool(function: Callable[..., Any], /) -> Tool: ...


@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    examples: Iterable[tuple[str, Mapping[str, Any]]] = (),
    requests: Iterable[str] = (),
) -> Callable[[Callable[..., Any]], Tool]: ...


def tool(
    function: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    examples: Iterable[tuple[str, Mapping[str, Any]]] = (),
    requests: Iterable[str] = (),
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Make a :class:`Tool` from a typed function (use as ``@tool`` or ``@tool(...)``).

    Parameters
    ----------
    function:
        The function; its type hints give the argument types.
    name:
        Tool name (default: the function's name).
    description:
        What the tool does and when to use it (default: the docstring's summary
        and extended description).
    examples:
        ``(request, arguments)`` pairs for few-shot prompts; each is validated.
    requests:
        Short example requests the tool answers (for semantic routing).

    Raises
    ------
    ConfigError
        A parameter lacks a type hint, or an example's arguments are invalid.
    """

    def build(func: Callable[..., Any]) -> Tool:
        label = name or func.__name__
        summary, extended, params = docstring_parts(func.__doc__)
        text = description or "\n\n".join(p for p in (summary, extended) if p)
        if not text:
            raise ConfigError(f"tool {label!r} needs a description (a docstring or description=)")
        model, schema = _arguments(func, label, params)
        spec = ToolSpec(name=label, description=text, parameters=copy.deepcopy(schema))
        made = Tool(spec, func, model)
        checked = []
        for prompt, arguments in examples:
            try:
                made.validate(arguments)
            except ToolCallError as exc:
                raise ConfigError(f"example {prompt!r}: {exc}") from None
            checked.append(ToolExample(prompt, dict(arguments)))
        asks = tuple(str(r).strip() for r in requests)
        if any(not r for r in asks):
            raise ConfigError(f"tool {label!r}: example requests must not be empty")
        return replace(made, examples=tuple(checked), requests=asks)

    return build(function) if function is not None else build


#: (code, name, descriptions, annotations, defaults) -> (arguments model, its schema)
_ARGUMENTS: dict[tuple[Any, ...], tuple[type[BaseModel], dict[str, Any]]] = {}
_ARGUMENTS_MAX = 512


def _arguments(
    func: Callable[..., Any], label: str, params: Mapping[str, str]
) -> tuple[type[BaseModel], dict[str, Any]]:
    """The arguments model of ``func`` and its JSON Schema, built once per definition.

    Tools made inside a function (closures over a user, a store) are rebuilt for every
    chat turn; building the pydantic model each time was most of a turn's CPU. Closures
    of one definition share code, hints and defaults, so they share the model.
    """
    key = (
        getattr(func, "__code__", id(func)), label, tuple(sorted(params.items())),
        tuple((k, repr(v)) for k, v in getattr(func, "__annotations__", {}).items()),
        repr(getattr(func, "__defaults__", None)),
        repr(getattr(func, "__kwdefaults__", None)),
    )  # fmt: skip
    found = _ARGUMENTS.get(key)
    if found is None:
        model = arguments_model(func, label, descriptions=params)
        found = (model, arguments_schema(model))
        if len(_ARGUMENTS) >= _ARGUMENTS_MAX:
            _ARGUMENTS.clear()
        _ARGUMENTS[key] = found
    return found


class ToolRegistry:
    """Tools by name, in the order they were added.

    Parameters
    ----------
    tools:
        Initial tools; names must be unique.
    """

    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for item in tools:
            self.add(item)

    def add(self, item: Tool) -> Tool:
        """Register ``item``; a second tool with the same name is a :class:`ConfigError`."""
        if item.name in self._tools:
            raise ConfigError(f"a tool named {item.name!r} is already registered")
        self._tools[item.name] = item
        return item

    def get(self, name: str) -> Tool:
        """The tool called ``name``.

        Raises
        ------
        UnknownNameError
            No such tool; the message lists the registered ones.
        """
        try:
            return self._tools[name]
        except KeyError:
            raise UnknownNameError("tool", name, self._tools) from None

    def __getitem__(self, name: str) -> Tool:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    @property
    def specs(self) -> list[ToolSpec]:
        return [t.spec for t in self]

    def validate(self, call: ToolCall) -> ToolCall:
        """``call`` with validated arguments.

        Raises
        ------
        ToolCallError
            Unknown tool (listing the valid names) or invalid arguments.
        """
        if call.name not in self._tools:
            raise ToolCallError(str(UnknownNameError("tool", call.name, self._tools)))
        return replace(call, arguments=self._tools[call.name].validate(call.arguments))

    def invoke(self, call: ToolCall) -> Any:
        """Validate ``call`` and run its tool."""
        checked = self.validate(call)
        return self._tools[checked.name].function(**checked.arguments)
