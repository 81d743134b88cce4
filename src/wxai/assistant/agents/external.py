"""External functions: tools whose call is an HTTP POST to another service.

An operator lists services in ``configs/external_tools.yaml`` (or the file named
by ``WXAI_EXTERNAL_TOOLS``): for each, a name, URL, description, JSON Schema of
its arguments and a timeout, plus the allow-list of hosts (and, for on-premises
services, private networks) they may live at. Each becomes an ordinary
:class:`~wxai.assistant.llm.tools.tool.Tool`, so a
:class:`~wxai.assistant.llm.tools.tool.ToolRegistry` mixes local and external
tools and a :class:`~wxai.assistant.llm.tools.caller.ToolCaller` chooses among
them.

A call POSTs ``{"session_id", "user", "function": {"name", "arguments"}}`` through
:func:`~wxai.assistant.agents.outbound_http.post_json` (allow-list, address checks,
checked redirects, size cap, timeout). A JSON answer is the tool's result as
parsed; any other answer is its text. A refused target raises
:class:`~wxai.core.errors.OutboundBlocked`; a timeout, an unreachable service, an
HTTP error status or unparsable JSON raise :class:`~wxai.core.errors.ToolCallError`.
Both are :class:`~wxai.core.errors.WxaiError`, which the tool caller turns into an
``{"error": ...}`` result instead of failing the run.

Session and user travel in an :class:`ExternalCallContext` bound to the tools:
read the file once (:func:`read_external_tools`), then make each session's tools
with :meth:`ExternalTools.tools`; the tools' arguments stay exactly the
configured ones, so a model never sees or sets the session.

>>> external = read_external_tools()  # doctest: +SKIP
>>> registry = ToolRegistry([*local_tools, *external.tools(ExternalCallContext("s1", "anna"))])
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import httpx
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
)

from wxai.assistant.agents.events import emit
from wxai.assistant.agents.outbound import (
    OutboundFailed,
    OutboundPolicy,
    OutboundRefused,
    Resolver,
    check_url,
    parse_host_rule,
    system_resolver,
)
from wxai.assistant.agents.outbound_http import post_json
from wxai.assistant.llm.tools.schema import arguments_schema
from wxai.assistant.llm.tools.tool import Tool
from wxai.assistant.llm.types import ToolSpec
from wxai.core.errors import ConfigError, ToolCallError, UnknownNameError

__all__ = [
    "ENV_VAR",
    "ExternalCallContext",
    "ExternalFunction",
    "ExternalTools",
    "ExternalToolsFile",
    "external_tools_path",
    "load_external_functions",
    "read_external_tools",
    "schema_model",
]

#: Environment variable naming another external-tools file.
ENV_VAR = "WXAI_EXTERNAL_TOOLS"

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
_SIMPLE = {"string": str, "integer": int, "number": float, "boolean": bool}
_CONSTRAINTS = {
    "minimum": "ge",
    "maximum": "le",
    "exclusiveMinimum": "gt",
    "exclusiveMaximum": "lt",
    "minLength": "min_length",
    "maxLength": "max_length",
    "pattern": "pattern",
    "minItems": "min_length",
    "maxItems": "max_length",
}
_KNOWN = {"type", "description", "default", "enum", "items", "examples", *_CONSTRAINTS}
_SNIPPET = 300


@dataclass(frozen=True)
class ExternalCallContext:
    """Who is calling: sent with every call, never chosen by the model.

    Attributes
    ----------
    session_id:
        The conversation or agent run the call belongs to.
    user:
        The user name the call is made for ("" when anonymous).
    """

    session_id: str = ""
    user: str = ""


class ExternalFunction(BaseModel):
    """One external function as configured.

    Attributes
    ----------
    name:
        Tool name the model calls (letters, digits, ``_``, ``-``; up to 64).
    url:
        Where the call is POSTed; its host must be in ``allowed_hosts``.
    description:
        What the function does and when to use it, for the model.
    parameters:
        JSON Schema of the arguments: an object whose properties are strings,
        integers, numbers, booleans, arrays of those, or objects.
    timeout_s:
        Limit for the whole call (connect, redirects, reading the answer).
    requests:
        Example requests the tool answers (for semantic routing).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    url: str
    description: str = Field(min_length=1)
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})
    timeout_s: float = Field(default=10.0, gt=0, le=300)
    requests: tuple[str, ...] = ()

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ConfigError(
                f"{value!r} is not a valid tool name: use letters, digits, '_' or '-', "
                "starting with a letter or '_', at most 64 characters"
            )
        return value


def _host_entry(value: str) -> str:
    parse_host_rule(value)  # ConfigError is a ValueError: pydantic reports it with its index
    return value


def _visible(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` as configured: an optional property shown without its ``null`` branch.

    Optional properties without a default are ``T | None`` in the validator (absent
    is fine); the model is shown ``T`` alone, as the operator wrote it.
    """
    for name, prop in schema.get("properties", {}).items():
        branches = prop.get("anyOf", [])
        others = [b for b in branches if b != {"type": "null"}]
        if len(branches) == 2 and len(others) == 1:
            rest = {k: v for k, v in prop.items() if k != "anyOf"}
            if rest.get("default", 0) is None:
                del rest["default"]
            schema["properties"][name] = {**others[0], **rest}
    return schema


class ExternalToolsFile(BaseModel):
    """The external-tools file: the outbound allow-list and the functions."""

    model_config = ConfigDict(extra="forbid")

    allowed_hosts: list[Annotated[str, AfterValidator(_host_entry)]] = Field(default_factory=list)
    allowed_networks: list[str] = Field(default_factory=list)
    max_redirects: int = Field(default=0, ge=0, le=10)
    max_response_bytes: int = Field(default=1_000_000, gt=0, le=100_000_000)
    functions: list[ExternalFunction] = Field(default_factory=list)

    @field_validator("allowed_networks")
    @classmethod
    def _check_networks(cls, value: list[str]) -> list[str]:
        OutboundPolicy(allowed_networks=tuple(value))  # ConfigError names the bad entry
        return value

    def policy(self, timeout_s: float = 10.0) -> OutboundPolicy:
        """The outbound policy of this file, with ``timeout_s`` as its time limit."""
        return OutboundPolicy(
            allowed_hosts=tuple(self.allowed_hosts),
            allowed_networks=tuple(self.allowed_networks),
            max_redirects=self.max_redirects,
            timeout_s=timeout_s,
            max_response_bytes=self.max_response_bytes,
        )


def _property_type(name: str, where: str, schema: Mapping[str, Any]) -> Any:
    """The Python annotation for one property schema (simple types, arrays, objects)."""
    unknown = sorted(set(schema) - _KNOWN - {"properties", "additionalProperties", "required"})
    if unknown:
        raise ConfigError(
            f"{where}: unsupported JSON Schema keyword(s) {', '.join(unknown)}; external "
            "functions take types, enum, items, descriptions, defaults and simple bounds"
        )
    if "enum" in schema:
        values = schema["enum"]
        simple = (str, int, float, bool, type(None))
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, simple) for v in values)
        ):
            raise ConfigError(f"{where}.enum: must be a non-empty list of strings or numbers")
        return Literal[tuple(values)]
    kind = schema.get("type")
    if kind in _SIMPLE:
        return _SIMPLE[kind]
    if kind == "array":
        items = schema.get("items", {})
        if not isinstance(items, Mapping):
            raise ConfigError(f"{where}.items: must be a schema (a mapping)")
        return list[_property_type(name, f"{where}.items", items) if items else Any]
    if kind == "object":
        return dict[str, Any]
    raise ConfigError(
        f"{where}.type: {kind!r} is not supported; use string, integer, number, "
        "boolean, array or object"
    )


def schema_model(
    name: str, schema: Mapping[str, Any], where: str = "parameters"
) -> type[BaseModel]:
    """A pydantic model (extra arguments forbidden) for a JSON Schema of tool arguments.

    Raises
    ------
    ConfigError
        The schema is not an object schema of supported property types; the
        message names the offending field.
    """
    if schema.get("type", "object") != "object":
        raise ConfigError(f"{where}.type: the arguments schema must be of type 'object'")
    properties = schema.get("properties", {})
    required = schema.get("required", [])
    if not isinstance(properties, Mapping) or not isinstance(required, list):
        raise ConfigError(f"{where}: 'properties' must be a mapping and 'required' a list")
    missing = sorted(set(required) - set(properties))
    if missing:
        raise ConfigError(f"{where}.required: names no property: {', '.join(missing)}")
    fields: dict[str, Any] = {}
    for prop, sub in properties.items():
        at = f"{where}.properties.{prop}"
        if not isinstance(sub, Mapping) or not _NAME.match(str(prop)):
            raise ConfigError(f"{at}: must be a schema mapping under a plain name")
        annotation = _property_type(prop, at, sub)
        bounds = {_CONSTRAINTS[k]: v for k, v in sub.items() if k in _CONSTRAINTS}
        info = Field(description=sub.get("description"), **bounds)
        default = ... if prop in required else sub.get("default")
        if prop not in required and default is None:
            annotation = annotation | None
        fields[prop] = (Annotated[annotation, info], default)
    try:
        return create_model(  # type: ignore[call-overload]
            f"{name}_arguments", __config__=ConfigDict(extra="forbid"), **fields
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: cannot build a validator: {exc}") from None


class ExternalTools:
    """The configured external functions and their outbound policy.

    Parameters
    ----------
    config:
        The validated file.
    source:
        Where it was read from (for messages).
    resolve:
        DNS lookup used by the calls (tests inject a fake one).
    transport:
        Connection step used by the calls (default: httpx's).

    Raises
    ------
    ConfigError
        A function's URL is refused by the allow-list, its schema is unsupported,
        or two functions share a name.
    """

    def __init__(
        self,
        config: ExternalToolsFile,
        *,
        source: str = "external tools",
        resolve: Resolver = system_resolver,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.config = config
        self.source = source
        self.resolve = resolve
        self.transport = transport
        self._functions: dict[str, ExternalFunction] = {}
        self._models: dict[str, type[BaseModel]] = {}
        policy = config.policy()
        for i, fn in enumerate(config.functions):
            where = f"{source}: functions.{i}"
            if fn.name in self._functions:
                raise ConfigError(f"{where}.name: a function named {fn.name!r} is already listed")
            try:
                check_url(fn.url, policy, resolve=None)
            except OutboundRefused as exc:
                raise ConfigError(f"{where}.url: {exc}") from None
            self._models[fn.name] = schema_model(fn.name, fn.parameters, f"{where}.parameters")
            self._functions[fn.name] = fn

    @property
    def names(self) -> list[str]:
        return list(self._functions)

    def function(self, name: str) -> ExternalFunction:
        """The configured function ``name`` (:class:`UnknownNameError` if none)."""
        try:
            return self._functions[name]
        except KeyError:
            raise UnknownNameError(
                "external function", name, self._functions, hint=f"Add it to {self.source}."
            ) from None

    def tool(self, name: str, context: ExternalCallContext | None = None) -> Tool:
        """The function ``name`` as a :class:`Tool` whose calls carry ``context``."""
        fn = self.function(name)
        model = self._models[name]
        bound = context or ExternalCallContext()

        def run(**arguments: Any) -> Any:
            return self.call(name, arguments, bound)

        run.__name__ = name
        spec = ToolSpec(
            name=name, description=fn.description, parameters=_visible(arguments_schema(model))
        )
        return Tool(spec, run, model, requests=fn.requests)

    def tools(self, context: ExternalCallContext | None = None) -> list[Tool]:
        """Every configured function as a :class:`Tool` bound to ``context``."""
        return [self.tool(name, context) for name in self._functions]

    def call(
        self, name: str, arguments: Mapping[str, Any], context: ExternalCallContext | None = None
    ) -> Any:
        """Validate ``arguments``, POST the call and return the service's answer.

        Returns
        -------
        Any
            The parsed JSON answer, or the answer's text when it is not JSON.

        Raises
        ------
        UnknownNameError
            No function ``name`` is configured.
        ToolCallError
            Invalid arguments, timeout, unreachable service, HTTP error status,
            or an answer declared JSON that does not parse.
        OutboundBlocked
            The URL, an address or a redirect was refused by the outbound policy.
        """
        fn = self.function(name)
        bound = context or ExternalCallContext()
        values = self.tool(name, bound).validate(arguments)
        required = set(fn.parameters.get("required", []))
        sent = {k: v for k, v in values.items() if v is not None or k in required}
        payload = {
            "session_id": bound.session_id,
            "user": bound.user,
            "function": {"name": name, "arguments": sent},
        }
        emit("tool_called", "external", name=name, arguments=sent, url=fn.url)
        try:
            result = self._post(fn, payload)
        except (OutboundRefused, ToolCallError) as exc:
            emit("error", "external", name=name, message=str(exc), type=type(exc).__name__)
            raise
        emit("tool_result", "external", name=name, result=_summary(result))
        return result

    def _post(self, fn: ExternalFunction, payload: Mapping[str, Any]) -> Any:
        policy = self.config.policy(fn.timeout_s)
        try:
            response = post_json(
                fn.url, payload, policy, resolve=self.resolve, transport=self.transport
            )
        except OutboundFailed as exc:
            raise ToolCallError(
                f"external function {fn.name!r} failed: {exc}; check that the service "
                f"is running, or raise its timeout_s in {self.source}"
            ) from None
        if not response.ok:
            raise ToolCallError(
                f"external function {fn.name!r}: {response.url} answered HTTP "
                f"{response.status}: {response.text[:_SNIPPET]!r}; check the service's log"
            )
        if response.content_type == "application/json" or response.content_type.endswith("+json"):
            try:
                return response.json()
            except ValueError:
                raise ToolCallError(
                    f"external function {fn.name!r}: {response.url} declared JSON but sent "
                    f"{response.text[:_SNIPPET]!r}"
                ) from None
        return response.text


def _summary(result: Any) -> Any:
    """A short, JSON-ready version of a result for events."""
    if isinstance(result, str) and len(result) > _SNIPPET:
        return result[:_SNIPPET] + "..."
    return result


def external_tools_path() -> Path:
    """The external-tools file: ``WXAI_EXTERNAL_TOOLS``, else ``configs/external_tools.yaml``."""
    explicit = os.environ.get(ENV_VAR, "").strip()
    if explicit:
        return Path(explicit).expanduser()
    from wxai.core.paths import configs_dir

    return configs_dir() / "external_tools.yaml"


def _problems(exc: ValidationError) -> str:
    out = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        out.append(f"{where}: {message}" if where else message)
    return "; ".join(out)


def read_external_tools(
    path: str | Path | None = None,
    *,
    resolve: Resolver = system_resolver,
    transport: httpx.BaseTransport | None = None,
) -> ExternalTools:
    """Read and check an external-tools file (default: :func:`external_tools_path`).

    Raises
    ------
    ConfigError
        The file is missing, not YAML, or invalid; the message names the field.
    """
    where = Path(path) if path is not None else external_tools_path()
    try:
        raw = yaml.safe_load(where.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"external tools file {where} not found; create it (see "
            f"docs/external-functions.md) or point {ENV_VAR} at one"
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where} is not valid YAML: {exc}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must hold a mapping with allowed_hosts and functions")
    try:
        config = ExternalToolsFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"invalid external tools file {where}: {_problems(exc)}") from None
    return ExternalTools(config, source=str(where), resolve=resolve, transport=transport)


def load_external_functions(
    path: str | Path | None = None,
    context: ExternalCallContext | None = None,
    *,
    resolve: Resolver = system_resolver,
    transport: httpx.BaseTransport | None = None,
) -> list[Tool]:
    """The external functions of a file as tools bound to ``context``.

    Parameters
    ----------
    path:
        The file (default: ``WXAI_EXTERNAL_TOOLS`` or ``configs/external_tools.yaml``).
    context:
        Session and user sent with every call (default: empty).
    resolve, transport:
        DNS lookup and connection step (for tests).
    """
    tools = read_external_tools(path, resolve=resolve, transport=transport)
    return tools.tools(context)
