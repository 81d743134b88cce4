"""Web-search retrieval, pluggable and off unless an endpoint is configured.

:class:`WebSearchRetriever` is a :class:`~wxai.assistant.rag.types.Retriever`
that asks a search service speaking the SearxNG JSON API
(``GET <endpoint>/search?q=...&format=json`` returning
``{"results": [{"url", "title", "content"}, ...]}``) and turns each result into a
:class:`Hit` cited by its URL. wxai runs offline by default: without an endpoint
(argument or ``WXAI_WEB_SEARCH_URL``), or with ``offline=True``, a search raises
:class:`~wxai.core.errors.ConfigError` saying how to enable it. Web hits carry no
embedding, so the relevance floor of :func:`~wxai.assistant.rag.answer.answer`
does not apply to them.
"""

from __future__ import annotations

import os

from wxai.assistant.rag.documents import Chunk
from wxai.assistant.rag.ranking import RRF_K
from wxai.assistant.rag.types import Hit
from wxai.core.errors import ConfigError, ProviderResponseError, ProviderUnavailable

__all__ = ["ENDPOINT_ENV", "WebSearchRetriever"]

ENDPOINT_ENV = "WXAI_WEB_SEARCH_URL"


class WebSearchRetriever:
    """Retrieve web search results from a SearxNG-compatible endpoint.

    Parameters
    ----------
    endpoint:
        Base URL of the search service (default: ``$WXAI_WEB_SEARCH_URL``).
    offline:
        Refuse every search (the default when no endpoint is set).
    timeout:
        HTTP timeout in seconds.
    """

    def __init__(
        self, endpoint: str | None = None, *, offline: bool = False, timeout: float = 10.0
    ) -> None:
        self.endpoint = endpoint if endpoint is not None else os.environ.get(ENDPOINT_ENV)
        self.offline = offline
        self.timeout = timeout

    @property
    def enabled(self) -> bool:
        """True when an endpoint is configured and offline mode is off."""
        return bool(self.endpoint) and not self.offline

    def search(self, query: str, k: int = 5) -> list[Hit]:
        """The first ``k`` web results for ``query``.

        Raises
        ------
        ConfigError
            Web search is disabled (offline, or no endpoint configured).
        ProviderUnavailable
            The endpoint cannot be reached.
        ProviderResponseError
            The endpoint answered with an error or with something other than the
            expected JSON.
        """
        if not self.enabled:
            why = "offline mode is on" if self.offline else f"{ENDPOINT_ENV} is not set"
            raise ConfigError(
                f"web search is disabled ({why}); wxai works offline by default. Set "
                f"{ENDPOINT_ENV} to a SearxNG-compatible search URL to enable it, or "
                "search a local store instead (wxai rag search --store NAME)"
            )
        import httpx

        url = self.endpoint.rstrip("/") + "/search"
        try:
            response = httpx.get(url, params={"q": query, "format": "json"}, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise ProviderUnavailable("web-search", f"{url}: {exc}") from exc
        if response.status_code != 200:
            raise ProviderResponseError("web-search", f"{url} answered HTTP {response.status_code}")
        try:
            results = response.json()["results"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ProviderResponseError("web-search", f"{url}: not SearxNG JSON ({exc})") from exc
        hits = []
        for rank, item in enumerate(results[:k], start=1):
            url_i = str(item.get("url", ""))
            text = str(item.get("content") or item.get("title") or "")
            chunk = Chunk(text, url_i, "html", section=item.get("title") or None)
            hits.append(Hit(chunk, 1.0 / (RRF_K + rank), None, None, rank))
        return hits
