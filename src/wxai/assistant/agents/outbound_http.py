"""POST JSON to an allow-listed service, every hop checked by :mod:`wxai.assistant.agents.outbound`.

:func:`post_json` resolves and checks the URL with
:func:`~wxai.assistant.agents.outbound.check_url`, connects to the checked
address (``Host`` header and TLS server name from the original name), follows
redirects by hand with each hop checked again, caps the body and holds one time
limit for the whole exchange; proxies from the environment are ignored.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import httpx

from wxai.assistant.agents.outbound import (
    OutboundFailed,
    OutboundPolicy,
    OutboundRefused,
    ResolvedTarget,
    Resolver,
    check_url,
    system_resolver,
)

__all__ = ["OutboundResponse", "post_json"]

_REDIRECTS = {301, 302, 303, 307, 308}


@dataclass(frozen=True)
class OutboundResponse:
    """A response read within the policy's limits: status, headers (lower-case names)
    and body of the last hop, the URL that answered, and every URL requested (``hops``).
    """

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str
    hops: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON (raises :class:`ValueError` when it is not JSON)."""
        return json.loads(self.body)


def _read(
    client: httpx.Client,
    target: ResolvedTarget,
    *,
    method: str,
    body: bytes | None,
    headers: Mapping[str, str],
    deadline: float,
    policy: OutboundPolicy,
) -> tuple[int, dict[str, str], bytes]:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise httpx.TimeoutException("time limit reached between redirects")
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    request = client.build_request(
        method,
        target.connect_url,
        content=body,
        headers={**headers, "Host": target.host_header},
        timeout=httpx.Timeout(remaining),
        extensions=extensions,
    )
    response = client.send(request, stream=True)
    try:
        limit = policy.max_response_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise OutboundRefused(
                "response-too-large",
                f"{target.url} announced {declared} bytes; the limit is {limit}",
            )
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise OutboundRefused(
                    "response-too-large",
                    f"{target.url} sent more than {limit} bytes; the limit is max_response_bytes",
                )
            if time.monotonic() > deadline:
                raise httpx.ReadTimeout("time limit reached while reading the body")
            chunks.append(chunk)
        return response.status_code, dict(response.headers), b"".join(chunks)
    finally:
        response.close()


def post_json(
    url: str,
    payload: Any,
    policy: OutboundPolicy,
    *,
    resolve: Resolver = system_resolver,
    transport: httpx.BaseTransport | None = None,
    headers: Mapping[str, str] | None = None,
) -> OutboundResponse:
    """POST ``payload`` as JSON to ``url``, within ``policy``, following checked redirects.

    A 307/308 redirect repeats the POST to the new location; 301/302/303 fetch it
    with GET (as browsers do). Any status is returned (the caller decides what a
    4xx/5xx means); a redirect without ``Location`` is returned as it is.

    Parameters
    ----------
    url:
        Where to send it.
    payload:
        A JSON-serialisable value.
    policy:
        Allow-list and limits (``timeout_s`` covers the whole exchange).
    resolve:
        DNS lookup (each host of each hop is resolved exactly once).
    transport:
        The connection step (default: httpx's, with certificate verification).
    headers:
        Extra request headers (a token, ...), sent to the first URL's origin only,
        never to a redirect target elsewhere; ``Host`` is always set from the URL.

    Raises
    ------
    OutboundRefused
        A hop, an address, the redirect count or the response size broke a rule.
    OutboundFailed
        Timeout, refused connection or another transport error.
    """
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    sent = {
        "Accept": "application/json, text/plain;q=0.9, */*;q=0.1",
        "Accept-Encoding": "identity",
        "Content-Type": "application/json",
        "User-Agent": "wxai-external-function",
    }
    deadline = time.monotonic() + policy.timeout_s
    method, current, hops = "POST", url, []
    origin: tuple[str, str, int] | None = None
    client = httpx.Client(transport=transport, trust_env=False, follow_redirects=False)
    try:
        with client:
            while True:
                target = check_url(current, policy, resolve=resolve)
                origin = origin or (target.scheme, target.host, target.port)
                same = origin == (target.scheme, target.host, target.port)
                hops.append(target.url)
                status, got, data = _read(
                    client,
                    target,
                    method=method,
                    body=body if method == "POST" else None,
                    headers={**sent, **(headers or {})} if same else sent,
                    deadline=deadline,
                    policy=policy,
                )
                location = got.get("location")
                if status not in _REDIRECTS or not location:
                    return OutboundResponse(status, got, data, target.url, tuple(hops))
                if len(hops) > policy.max_redirects:
                    raise OutboundRefused(
                        "redirect-limit",
                        f"{target.url} redirected again after {policy.max_redirects} "
                        f"redirect(s) (hops: {' -> '.join(hops)}); raise max_redirects "
                        "or give the final URL",
                    )
                current = urljoin(target.url, location)
                if status in (301, 302, 303):
                    method = "GET"
    except httpx.TimeoutException as exc:
        raise OutboundFailed(
            "timeout", f"{url} did not answer within {policy.timeout_s:g} s ({exc})"
        ) from None
    except httpx.HTTPError as exc:
        raise OutboundFailed(
            "connection", f"cannot reach {url}: {type(exc).__name__}: {exc}"
        ) from None
