"""Choose a tool for a request by sentence-embedding similarity, without a language model.

:class:`SemanticRouter` embeds, once, the texts that characterise each tool (its
description, its example requests and its few-shot prompts, see
:attr:`~wxai.assistant.llm.tools.tool.Tool.routing_texts`) with the offline MiniLM
model (:class:`~wxai.assistant.rag.embedding.Embedder`). A request is scored
against each tool as the highest cosine similarity to any of its texts (nearest
neighbour: one close example is evidence enough, a mean would dilute it), and
the tools are ranked by that score. A best score below ``floor`` means that no
tool fits the request.

>>> router = SemanticRouter(weather_tools())  # doctest: +SKIP
>>> router.rank("Dew point at 18 C and 75% humidity")[0]  # doctest: +SKIP
Route(tool='dew_point', score=0.93)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from wxai.assistant.llm.tools.tool import Tool, ToolRegistry
from wxai.core.errors import ConfigError

__all__ = ["DEFAULT_FLOOR", "Route", "SemanticRouter", "TextEncoder"]

#: Best similarity below which no tool fits. Measured with MiniLM-L6 on the weather
#: tools: the 35 evaluation requests score 0.45 or more with their best tool, seven
#: unrelated requests (jokes, recipes, trivia) 0.13-0.28.
DEFAULT_FLOOR = 0.35


class TextEncoder(Protocol):
    """Embeds texts as unit vectors, like :class:`~wxai.assistant.rag.embedding.Embedder`."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """float32 array ``(len(texts), dim)``, rows of unit L2 norm."""
        ...


@dataclass(frozen=True)
class Route:
    """A tool and the similarity of the request to it (cosine, -1 to 1)."""

    tool: str
    score: float


class SemanticRouter:
    """Rank tools by embedding similarity between a request and each tool's texts.

    Parameters
    ----------
    tools:
        A :class:`ToolRegistry` or tools; each is described by its
        :attr:`~wxai.assistant.llm.tools.tool.Tool.routing_texts`.
    encoder:
        The sentence embedder (default: the offline MiniLM
        :class:`~wxai.assistant.rag.embedding.Embedder`, loaded once per process).
    floor:
        Best score below which :meth:`route` reports that no tool fits.

    Raises
    ------
    ConfigError
        No tools, or ``floor`` outside ``[-1, 1]``.
    """

    def __init__(
        self,
        tools: ToolRegistry | Iterable[Tool],
        encoder: TextEncoder | None = None,
        *,
        floor: float = DEFAULT_FLOOR,
    ) -> None:
        self.tools = tools if isinstance(tools, ToolRegistry) else ToolRegistry(tools)
        if not len(self.tools):
            raise ConfigError("SemanticRouter needs at least one tool")
        if not -1.0 <= floor <= 1.0:
            raise ConfigError(f"floor is a cosine similarity in [-1, 1], got {floor}")
        self.floor = floor
        self._encoder = encoder
        self._matrix: np.ndarray | None = None
        self._owner: np.ndarray | None = None

    @property
    def encoder(self) -> TextEncoder:
        """The embedder (the MiniLM model is loaded on first use)."""
        if self._encoder is None:
            # imported here: rag imports llm.types, so a module-level import could cycle
            from wxai.assistant.rag.embedding import Embedder

            self._encoder = Embedder()
        return self._encoder

    def _index(self) -> tuple[np.ndarray, np.ndarray]:
        if self._matrix is None or self._owner is None:
            texts: list[str] = []
            owner: list[int] = []
            for k, item in enumerate(self.tools):
                texts += item.routing_texts
                owner += [k] * len(item.routing_texts)
            self._matrix = np.asarray(self.encoder.encode(texts), dtype=np.float32)
            self._owner = np.asarray(owner)
        return self._matrix, self._owner

    def scores(self, request: str) -> dict[str, float]:
        """``{tool name: best cosine similarity of request to the tool's texts}``."""
        matrix, owner = self._index()
        query = np.asarray(self.encoder.encode([request]), dtype=np.float32)[0]
        similarity = matrix @ query
        best = np.full(len(self.tools), -np.inf)
        np.maximum.at(best, owner, similarity)
        return {name: float(s) for name, s in zip(self.tools.names, best, strict=True)}

    def rank(self, request: str) -> list[Route]:
        """Every tool, best match first."""
        ranked = sorted(self.scores(request).items(), key=lambda kv: -kv[1])
        return [Route(name, round(score, 4)) for name, score in ranked]

    def route(self, request: str, k: int = 1) -> list[Route]:
        """The ``k`` best tools, or ``[]`` when even the best scores below ``floor``."""
        ranked = self.rank(request)
        return ranked[:k] if ranked[0].score >= self.floor else []

    def __repr__(self) -> str:
        return f"SemanticRouter({len(self.tools)} tools, floor={self.floor})"


def _last_user_text(messages: Sequence[Any]) -> str:
    """The text of the last user message (what a router matches)."""
    for message in reversed(messages):
        if message.role == "user" and message.content.strip():
            return str(message.content)
    raise ConfigError("semantic routing needs a user message with text")
