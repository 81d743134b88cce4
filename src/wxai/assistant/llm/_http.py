"""HTTP plumbing shared by the remote providers: requests, streamed lines, error mapping.

Every failure of the transport or of the server becomes a
:class:`~wxai.core.errors.ProviderError` whose message names the URL and says what
to do, so no caller ever sees a raw :mod:`httpx` traceback.

Two bounds keep a hanging server from holding a caller forever: ``timeout`` for the
connection and for each read (a server that accepts and then says nothing, or stalls
mid-stream), and ``deadline`` for the whole answer (a server that trickles bytes).
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from typing import Any

import httpx

from wxai.core.errors import ConfigError, ProviderResponseError, ProviderUnavailable

__all__ = ["HttpEndpoint", "check_base_url", "decode_json", "server_message"]

_MAX_MESSAGE = 300
#: The whole answer may take this many times the per-read ``timeout`` unless told otherwise.
DEADLINE_FACTOR = 10.0


def check_base_url(base_url: str, what: str) -> str:
    """Return ``base_url`` without trailing slashes; raise if it is not an http(s) URL."""
    url = base_url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(
            f"{what} base URL {base_url!r} must start with http:// or https:// "
            "(for example http://127.0.0.1:11434)"
        )
    return url


def server_message(response: httpx.Response) -> str:
    """The error text of an HTTP error response, from the usual JSON shapes or the body."""
    text = response.text.strip()
    try:
        body = json.loads(text)
    except ValueError:
        return text[:_MAX_MESSAGE] or response.reason_phrase
    if isinstance(body, dict):
        error = body.get("error", body.get("detail", body.get("message")))
        if isinstance(error, dict):
            error = error.get("message", error)
        if error is not None:
            return str(error)[:_MAX_MESSAGE]
    return text[:_MAX_MESSAGE]


@cache
def _tls_context() -> ssl.SSLContext:
    """The certificate store, read once per process (reading it takes ~10 ms of CPU)."""
    return httpx.create_ssl_context()


def decode_json(text: str, provider: str, what: str) -> Any:
    """Parse ``text`` as JSON or raise :class:`ProviderResponseError` quoting it."""
    try:
        return json.loads(text)
    except ValueError:
        raise ProviderResponseError(
            provider, f"malformed {what} (not JSON): {text[:_MAX_MESSAGE]!r}"
        ) from None


class HttpEndpoint:
    """A JSON-over-HTTP service of one provider, with its errors made readable.

    Parameters
    ----------
    provider:
        Backend name used in error messages (``"ollama"``, ``"openai-compatible"``).
    timeout:
        Seconds to wait for the connection and for each piece of the answer.
    deadline:
        Seconds the whole answer may take, streamed or not (default:
        ``DEADLINE_FACTOR * timeout``).
    headers:
        Sent with every request (for example ``Authorization``).
    unreachable_hint:
        What to tell the user when the server cannot be reached.
    status_hints:
        Extra advice per HTTP status code (401: which API key variable to check).
    """

    def __init__(
        self,
        provider: str,
        *,
        timeout: float,
        deadline: float | None = None,
        headers: Mapping[str, str] | None = None,
        unreachable_hint: str = "",
        status_hints: Mapping[int, str] | None = None,
    ) -> None:
        if timeout <= 0:
            raise ConfigError(f"{provider}: timeout must be > 0 seconds, got {timeout}")
        if deadline is not None and deadline <= 0:
            raise ConfigError(f"{provider}: deadline must be > 0 seconds, got {deadline}")
        self.provider = provider
        self.timeout = timeout
        self.deadline = DEADLINE_FACTOR * timeout if deadline is None else deadline
        self.headers = dict(headers or {})
        self.unreachable_hint = unreachable_hint
        self.status_hints = dict(status_hints or {})

    def _client(self) -> httpx.Client:
        # One client per request: its connections close when the request ends, so no
        # socket outlives a call (an LLM answer takes far longer than a new connection).
        # The TLS context is shared: building one per client cost more CPU than the call.
        return httpx.Client(
            timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0)),
            headers=self.headers,
            verify=_tls_context(),
        )

    def post_json(self, url: str, body: Mapping[str, Any]) -> Any:
        """POST ``body`` as JSON and return the decoded JSON answer."""
        end = time.monotonic() + self.deadline
        with (
            self._guard(url),
            self._client() as client,
            client.stream("POST", url, json=body) as response,
        ):
            parts = [self._check_deadline(url, end, chunk) for chunk in response.iter_bytes()]
            answer = httpx.Response(
                response.status_code,
                headers=response.headers,
                content=b"".join(parts),
                request=response.request,
            )
            self._raise_for_status(url, answer)
            return decode_json(answer.text, self.provider, "response")

    def stream_lines(self, url: str, body: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
        """POST ``body`` and yield ``(content_type, line)`` for each line of the answer.

        Lines arrive as the server sends them; empty lines are yielded too (SSE uses
        them as event separators).
        """
        with (
            self._guard(url),
            self._client() as client,
            client.stream("POST", url, json=body) as response,
        ):
            if response.status_code >= 400:
                response.read()
                self._raise_for_status(url, response)
            content_type = response.headers.get("content-type", "")
            end = time.monotonic() + self.deadline
            pending = ""
            for text in response.iter_text():
                pending += self._check_deadline(url, end, text)
                *lines, pending = pending.split("\n")
                for line in lines:
                    yield content_type, line.removesuffix("\r")
            if pending:
                yield content_type, pending.removesuffix("\r")

    def _check_deadline(self, url: str, end: float, chunk: Any) -> Any:
        """``chunk`` if the answer is still within its deadline, else ProviderUnavailable."""
        if time.monotonic() > end:
            raise ProviderUnavailable(
                self.provider,
                f"the answer from {url} took longer than the {self.deadline:g} s deadline; "
                "the server is too slow or stuck: retry, or choose another model",
            )
        return chunk

    @contextmanager
    def _guard(self, url: str) -> Iterator[None]:
        hint = f"; {self.unreachable_hint}" if self.unreachable_hint else ""
        try:
            yield
        except httpx.TimeoutException as exc:
            raise ProviderUnavailable(
                self.provider,
                f"no answer from {url} within the {self.timeout:g} s timeout "
                f"({type(exc).__name__}); the server may be overloaded or still loading "
                f"the model: retry, or raise the timeout{hint}",
            ) from None
        except httpx.ConnectError as exc:
            raise ProviderUnavailable(
                self.provider, f"cannot connect to {url} ({exc}){hint}"
            ) from None
        except httpx.TransportError as exc:
            raise ProviderUnavailable(
                self.provider,
                f"the connection to {url} failed ({type(exc).__name__}: {exc}){hint}",
            ) from None

    def _raise_for_status(self, url: str, response: httpx.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        message = f"HTTP {status} from {url}: {server_message(response)}"
        hint = self.status_hints.get(status)
        if hint:
            message += f"; {hint}"
        raise ProviderResponseError(self.provider, message)
