"""How errors become HTTP answers: always JSON ``{"detail": ...}``, never a traceback.

=====================================  ======
error                                  status
=====================================  ======
malformed JSON, body or query invalid  400
ConfigError, DataFormatError           400
unknown name, unknown task or figure   404
TaskStateError (wrong state)           409
MissingExtra, AssetNotFound            503
ProviderError (LLM service failed)     502
any other error                        500
=====================================  ======
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from wxai.core.errors import (
    AssetNotFound,
    ConfigError,
    DataFormatError,
    MissingExtra,
    ProviderError,
    TaskStateError,
    WxaiError,
)

log = logging.getLogger(__name__)


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


def wxai_error_status(exc: WxaiError) -> int:
    """The HTTP status of a wxai error."""
    if isinstance(exc, TaskStateError):
        return status.HTTP_409_CONFLICT
    if isinstance(exc, LookupError):  # UnknownNameError, TaskNotFoundError, ...
        return status.HTTP_404_NOT_FOUND
    if isinstance(exc, ConfigError | DataFormatError):
        return status.HTTP_400_BAD_REQUEST
    if isinstance(exc, MissingExtra | AssetNotFound):
        return status.HTTP_503_SERVICE_UNAVAILABLE
    if isinstance(exc, ProviderError):
        return status.HTTP_502_BAD_GATEWAY
    return status.HTTP_500_INTERNAL_SERVER_ERROR


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(error.get("loc", ())), "msg": error.get("msg", ""), "type": error.get("type")}
        for error in exc.errors()
    ]
    return JSONResponse(
        status_code=status.HTTP_400_BAD_REQUEST,
        content={"detail": format_validation_errors(exc.errors()), "errors": errors},
    )


async def _wxai_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, WxaiError)
    code = wxai_error_status(exc)
    if code >= 500:
        log.error("request failed: %s", exc, exc_info=exc)
    return JSONResponse(status_code=code, content={"detail": str(exc)})


async def _unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error while serving a request", exc_info=exc)
    return JSONResponse(
        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
        content={"detail": f"internal error ({type(exc).__name__}); see the server log"},
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers of the table above on ``app``."""
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(WxaiError, _wxai_error)
    app.add_exception_handler(Exception, _unexpected_error)
