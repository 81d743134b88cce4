"""How errors become HTTP answers: always JSON ``{"detail": ...}``, never a traceback.

========================================  ======
error                                     status
========================================  ======
malformed JSON, body or query invalid     400
ConfigError, DataFormatError, ValueError  400
unknown name, task, figure, file          404
TaskStateError (wrong state)              409
ToolCallError (model's tool call bad)     422
ProviderError, data server unreachable    502
MissingExtra, AssetNotFound               503
any other error                           500
========================================  ======

Under ``/v1/`` (the OpenAI-compatible API) the same errors come in OpenAI's shape,
``{"error": {"message", "type", "param", "code"}}``, so the official clients raise
their own exception classes (:func:`error_content`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from wxai.core.errors import (
    AssetNotFound,
    ConfigError,
    DataFormatError,
    MissingExtra,
    ProviderError,
    TaskStateError,
    ToolCallError,
    WxaiError,
)

log = logging.getLogger(__name__)


#: Path prefix of the OpenAI-compatible API, whose errors take OpenAI's shape.
OPENAI_PREFIX = "/v1/"

#: OpenAI's error ``type`` for each status (what its clients map to exception classes).
_OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}


def error_content(
    path: str, status_code: int, detail: str, *, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    """The JSON body of an error answer to a request for ``path``.

    ``{"detail": ...}`` everywhere, except under ``/v1/``:
    ``{"error": {"message", "type", "param", "code"}}`` as OpenAI's API answers.
    """
    if not path.startswith(OPENAI_PREFIX):
        return {"detail": detail}
    kind = _OPENAI_TYPES.get(status_code, "server_error" if status_code >= 500 else "api_error")
    return {"error": {"message": detail, "type": kind, "param": param, "code": code}}


def format_validation_errors(errors: Iterable[Mapping[str, Any]]) -> str:
    """One readable line per pydantic/FastAPI validation error, joined with ``; ``."""
    parts = []
    for error in errors:
        kind = error.get("type", "")
        location = [str(item) for item in error.get("loc", ())]
        if kind == "json_invalid":
            reason = error.get("ctx", {}).get("error", error.get("msg", ""))
            parts.append(f"the request body is not valid JSON ({reason})")
            continue
        if location == ["body"] and kind == "missing":
            parts.append("the request body is missing: send a JSON object")
            continue
        if location == ["body"] and kind in {"model_attributes_type", "model_type", "dict_type"}:
            parts.append(
                "the request body must be a JSON object, sent with Content-Type: application/json"
            )
            continue
        where = ".".join(location[1:] if location[:1] == ["body"] else location) or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


#: Status of each kind of wxai error; the first match wins, so order matters
#: (AssetNotFound is a FileNotFoundError, ToolCallError a ValueError).
_STATUS: tuple[tuple[tuple[type[BaseException], ...], int], ...] = (
    ((TaskStateError,), status.HTTP_409_CONFLICT),
    ((MissingExtra, AssetNotFound), status.HTTP_503_SERVICE_UNAVAILABLE),
    # UnknownNameError, TaskNotFoundError, a missing file, a remote file, a cache miss
    ((LookupError, FileNotFoundError), status.HTTP_404_NOT_FOUND),
    ((ToolCallError,), status.HTTP_422_UNPROCESSABLE_CONTENT),
    ((ProviderError, ConnectionError), status.HTTP_502_BAD_GATEWAY),  # LLM or data server
    ((ConfigError, DataFormatError, ValueError), status.HTTP_400_BAD_REQUEST),
)


def wxai_error_status(exc: WxaiError) -> int:
    """The HTTP status of a wxai error (500 for one that fits no row of the table)."""
    for kinds, code in _STATUS:
        if isinstance(exc, kinds):
            return code
    return status.HTTP_500_INTERNAL_SERVER_ERROR


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(error.get("loc", ())), "msg": error.get("msg", ""), "type": error.get("type")}
        for error in exc.errors()
    ]
    detail = format_validation_errors(exc.errors())
    content = error_content(request.url.path, status.HTTP_400_BAD_REQUEST, detail)
    if "detail" in content:
        content["errors"] = errors
    return JSONResponse(status_code=status.HTTP_400_BAD_REQUEST, content=content)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    return JSONResponse(
        status_code=exc.status_code,
        content=error_content(request.url.path, exc.status_code, detail),
        headers=exc.headers,
    )


async def _wxai_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, WxaiError)
    code = wxai_error_status(exc)
    if code >= 500:
        log.error("request failed: %s", exc, exc_info=exc)
    return JSONResponse(status_code=code, content=error_content(request.url.path, code, str(exc)))


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error while serving a request", exc_info=exc)
    detail = f"internal error ({type(exc).__name__}); see the server log"
    return JSONResponse(
        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
        content=error_content(request.url.path, 500, detail),
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers of the table above on ``app``."""
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(WxaiError, _wxai_error)
    app.add_exception_handler(Exception, _unexpected_error)
