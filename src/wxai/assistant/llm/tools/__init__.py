"""Tool calling: typed Python functions as tools, called by any language-model provider.

:func:`tool` turns a typed function into a :class:`Tool` (JSON Schema from its
signature, validation with the same pydantic model); :class:`ToolCaller` gets
validated calls from a provider (native tools, schema-constrained decoding, a
routing step, embedding-based routing with :class:`SemanticRouter`, or a JSON
block with one retry); :mod:`.weather` has demo tools and
:mod:`.evaluation` measures how often a model calls the right tool validly.
"""

from wxai.assistant.llm.tools.caller import (
    Strategy,
    ToolCaller,
    ToolDecision,
    ToolRun,
    call_tools,
    choice_schema,
)
from wxai.assistant.llm.tools.parsing import extract_json, to_tool_call
from wxai.assistant.llm.tools.router import Route, SemanticRouter
from wxai.assistant.llm.tools.schema import arguments_schema, grammar_gaps
from wxai.assistant.llm.tools.tool import Tool, ToolExample, ToolRegistry, tool

__all__ = [
    "Route",
    "SemanticRouter",
    "Strategy",
    "Tool",
    "ToolCaller",
    "ToolDecision",
    "ToolExample",
    "ToolRegistry",
    "ToolRun",
    "arguments_schema",
    "call_tools",
    "choice_schema",
    "extract_json",
    "grammar_gaps",
    "to_tool_call",
    "tool",
]
