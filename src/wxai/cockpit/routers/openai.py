"""``/v1/``: the cockpit as an OpenAI-compatible server (models and chat completions).

Programs written for OpenAI's API (the ``openai`` client, LangChain, LangGraph,
curl) use the cockpit's model aliases with a wxai API key as their bearer token.
What each alias reaches stays on the server; ordinary users see only the aliases
``WXAI_USER_MODELS`` allows. With the extension field ``wxai_tools`` a request runs
the cockpit's own chat turn (weather, data files, documents, in one of the caller's
sessions) instead of a plain completion. Errors answer in OpenAI's shape
(:func:`wxai.cockpit.errors.error_content`).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import JSONResponse, StreamingResponse

from wxai.assistant.llm.registry import ModelAlias, get_provider, list_models, models_file
from wxai.assistant.llm.types import ChatChunk, LLMProvider, Message, ToolCall
from wxai.cockpit import model_access
from wxai.cockpit.accounts import AccountStore, Principal
from wxai.cockpit.auth import ROUTINE_PARTS, AccountsDep, SignInWatch, UserDep
from wxai.cockpit.chat import run_turn
from wxai.cockpit.conversations import ConversationStore
from wxai.cockpit.openai_api import (
    DONE,
    ChatCompletionOut,
    ChatCompletionRequest,
    ChunkWriter,
    ModelList,
    ModelObject,
    OpenAIErrorOut,
    completion,
    completion_id,
    error_event,
    estimate_usage,
    json_schema_of,
    select_tools,
    to_messages,
    tool_calls_out,
    usage_of,
)
from wxai.cockpit.routers.sessions import MAX_TEXT_CHARS, toolbox_for
from wxai.core.errors import WxaiError

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1", tags=["openai"])

_FINISH = frozenset({"stop", "length", "tool_calls", "content_filter"})
_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": OpenAIErrorOut,
          "description": "Invalid body: n > 1, no messages, tools to a model without them"},
    401: {"model": OpenAIErrorOut, "description": "Missing or invalid API key"},
    403: {"model": OpenAIErrorOut,
          "description": "The model alias is not open to you (WXAI_USER_MODELS)"},
    404: {"model": OpenAIErrorOut,
          "description": "Unknown model alias, or no such chat session of yours"},
    502: {"model": OpenAIErrorOut, "description": "The model's service is down or failed"},
}  # fmt: skip
_MODEL_ERRORS = {code: _ERRORS[code] for code in (400, 401, 403, 404)}


def allowed_aliases(request: Request, user: Principal) -> list[ModelAlias]:
    """The aliases ``user`` may use (:func:`wxai.cockpit.model_access.allowed_aliases`)."""
    return model_access.allowed_aliases(request.app.state.settings, user)


def check_model(request: Request, user: Principal, model: str) -> ModelAlias:
    """The alias ``model`` if ``user`` may use it; 404 when unknown, 403 when not allowed."""
    allowed = allowed_aliases(request, user)
    for entry in allowed:
        if entry.alias == model:
            return entry
    if any(entry.alias == model for entry in list_models()):
        try:
            model_access.check_allowed(request.app.state.settings, user, model)
        except model_access.ModelNotAllowed as exc:
            raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from None
    names = ", ".join(entry.alias for entry in allowed) or "none"
    raise HTTPException(
        status.HTTP_404_NOT_FOUND,
        f"the model {model!r} does not exist; valid models: {names} (see GET /v1/models)",
    )


def _created() -> int:
    try:
        return int(models_file().stat().st_mtime)
    except OSError:
        return 0


def _model_object(entry: ModelAlias, created: int) -> ModelObject:
    return ModelObject(id=entry.alias, created=created, owned_by=entry.supplier)


@router.get(
    "/models", summary="List the models you may use (OpenAI format)", responses=_MODEL_ERRORS
)
def list_v1_models(request: Request, user: UserDep) -> ModelList:
    """``{"object": "list", "data": [{"id": alias, "object": "model", ...}]}``.

    Only aliases that work now: one whose provider needs a key the server lacks
    (``OPENAI_API_KEY`` for ``openai-*``) is left out, as clients offer what is listed.
    """
    created = _created()
    usable = [
        entry
        for entry in allowed_aliases(request, user)
        if entry.api_key_set is not False or not entry.api_key_required
    ]
    return ModelList(data=[_model_object(entry, created) for entry in usable])


@router.get("/models/{model_id}", summary="One model (OpenAI format)", responses=_MODEL_ERRORS)
def get_v1_model(request: Request, user: UserDep, model_id: str) -> ModelObject:
    """One alias you may use; 404 for an unknown one, 403 for one not open to you."""
    return _model_object(check_model(request, user, model_id), _created())


def _provider_factory(request: Request) -> Callable[[str], LLMProvider]:
    return getattr(request.app.state, "chat_provider", None) or get_provider


def _set_usage(request: Request, tokens: int) -> None:
    """Tokens of this request, for per-user quotas read by a middleware."""
    request.state.usage_tokens = int(tokens)


@dataclass(frozen=True)
class _Caller:
    """Who a stream is for: to count its tokens and to cut it when they sign out."""

    request: Request
    accounts: AccountStore
    user: Principal
    include_usage: bool
    watch: SignInWatch = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "watch", SignInWatch(self.accounts, self.user))

    def set_usage(self, tokens: int) -> None:
        _set_usage(self.request, tokens)

    def signed_in(self, *, important: bool = True) -> bool:
        """Still signed in; text deltas (``important=False``) check at most once a second."""
        return self.watch(important=important)


def _finish(reason: str | None, calls: list[ToolCall]) -> str:
    if calls:
        return "tool_calls"
    return reason if reason in _FINISH else "stop"


@router.post(
    "/chat/completions",
    summary="Chat completion (OpenAI format), streamed with stream: true",
    response_model=None,
    responses={
        **_ERRORS,
        200: {
            "model": ChatCompletionOut,
            "description": "A `chat.completion`; with `stream: true` a `text/event-stream` of "
            "`chat.completion.chunk` events ended by `data: [DONE]`",
            "content": {"text/event-stream": {}},
        },
    },
)
def chat_completions(
    request: Request, user: UserDep, accounts: AccountsDep, body: ChatCompletionRequest
) -> Any:
    """Answer ``messages`` with the model alias ``model``, as OpenAI's API does.

    ``tools`` reach only aliases with native tool calling (others answer 400);
    ``wxai_tools: true`` answers the last user message with the cockpit's chat and
    its tools, in a new session or in ``wxai_session`` (one of yours).
    """
    entry = check_model(request, user, body.model)
    if (body.n or 1) > 1:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "n must be 1: one choice per request")
    if body.wxai_tools:
        return _wxai_turn(request, user, accounts, body, entry)
    specs = select_tools(body)
    if specs and not entry.capabilities.native_tools:
        able = [e.alias for e in allowed_aliases(request, user) if e.capabilities.native_tools]
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"the model {entry.alias!r} takes no tools; models with tool calling: "
            f"{', '.join(able) or 'none'} (or send wxai_tools: true for the cockpit's tools)",
        )
    messages = to_messages(body.messages)
    provider = _provider_factory(request)(entry.alias)
    options: dict[str, Any] = {
        "tools": specs or None,
        "json_schema": json_schema_of(body),
        "max_tokens": body.output_budget,
        "temperature": body.temperature or 0.0,
    }
    if not body.stream:
        answer = provider.chat(messages, **options)
        calls = list(answer.tool_calls)
        usage = usage_of(answer.usage, messages, answer.content, calls)
        _set_usage(request, usage.total_tokens)
        return JSONResponse(
            completion(
                completion_id(), entry.alias, content=answer.content, calls=calls,
                finish_reason=_finish(answer.finish_reason, calls), usage=usage,
            )
        )  # fmt: skip
    chunks = provider.stream(messages, **options)
    first = next(chunks, None)  # before the response starts: a provider that is down is a 502
    head = [] if first is None else [first]
    caller = _Caller(request, accounts, user, body.include_usage)
    return StreamingResponse(
        _completion_events(
            caller, ChunkWriter(entry.alias), messages, itertools.chain(head, chunks),
            close=getattr(chunks, "close", None),
        ),
        media_type="text/event-stream",
        headers=_SSE_HEADERS,
    )  # fmt: skip


def _completion_events(
    caller: _Caller,
    out: ChunkWriter,
    messages: list[Message],
    chunks: Iterator[ChatChunk],
    close: Callable[[], None] | None,
) -> Iterator[str]:
    """``chat.completion.chunk`` events for a provider's stream, ended by ``[DONE]``."""
    text: list[str] = []
    calls: list[ToolCall] = []
    finish: str | None = None
    yield out.start()
    try:
        for count, piece in enumerate(chunks):
            if count % 32 == 31 and not caller.signed_in():
                yield error_event("signed out", "authentication_error")
                yield DONE
                return
            if piece.delta:
                text.append(piece.delta)
                yield out.delta({"content": piece.delta})
            if piece.tool_calls:
                fragments = tool_calls_out(piece.tool_calls, indexed=True, start=len(calls))
                calls.extend(piece.tool_calls)
                yield out.delta({"tool_calls": fragments})
            finish = piece.finish_reason or finish
    except WxaiError as exc:
        caller.set_usage(estimate_usage(messages, "".join(text), calls).total_tokens)
        yield error_event(str(exc))
        yield DONE
        return
    except Exception as exc:  # the stream ends with a message, never a broken connection
        log.exception("a /v1/chat/completions stream failed")
        yield error_event(f"the completion failed ({type(exc).__name__}); see the server log")
        yield DONE
        return
    finally:
        if close is not None:
            close()
    usage = estimate_usage(messages, "".join(text), calls)
    caller.set_usage(usage.total_tokens)
    yield out.finish(_finish(finish, calls))
    if caller.include_usage:
        yield out.usage(usage)
    yield DONE


# -- wxai_tools: the cockpit's own chat turn ----------------------------------------------


def _last_user_text(body: ChatCompletionRequest) -> str:
    for message in reversed(to_messages(body.messages)):
        if message.role == "user" and message.content.strip():
            if len(message.content) > MAX_TEXT_CHARS:
                raise HTTPException(
                    status.HTTP_400_BAD_REQUEST,
                    f"with wxai_tools the last user message may have at most {MAX_TEXT_CHARS} "
                    "characters",
                )
            if "\x00" in message.content:
                raise HTTPException(
                    status.HTTP_400_BAD_REQUEST, "the message must not contain NUL characters"
                )
            return message.content
    raise HTTPException(
        status.HTTP_400_BAD_REQUEST, "wxai_tools needs a user message with text to answer"
    )


_SHOWN = frozenset({"text", "error", "done"})


def _wxai_turn(
    request: Request,
    user: Principal,
    accounts: AccountStore,
    body: ChatCompletionRequest,
    entry: ModelAlias,
) -> Any:
    """Run :func:`wxai.cockpit.chat.run_turn` for the last user message; answer in OpenAI's shape.

    A session named in ``wxai_session`` that is not the caller's answers 404, exactly
    like a missing one; without it a new session titled from the message is created.
    """
    text = _last_user_text(body)
    conversations: ConversationStore = request.app.state.conversations
    if body.wxai_session:
        info = conversations.get(user, body.wxai_session)  # 404 for anyone else's session
    else:
        info = conversations.create(user, text, entry.alias)
    max_tokens = min(body.output_budget, int(getattr(request.app.state, "chat_max_tokens", 384)))
    budget = max(256, entry.capabilities.context_length - max_tokens - 600)
    store = getattr(request.app.state, "dataspaces", None)
    parts = run_turn(
        conversations, user, info.id, text, alias=entry.alias,
        toolbox=toolbox_for(request, user, entry.alias),
        provider_factory=_provider_factory(request),
        now=getattr(request.app.state, "chat_now", None), budget_tokens=budget,
        max_tokens=max_tokens,
        data_files=(
            (lambda: store.list_data_files(user, ("data", "image"))) if store is not None else list
        ),
    )  # fmt: skip
    head: list[dict[str, Any]] = []
    for part in parts:  # up to the first answer, error or end: a failed turn is a 502
        head.append(part)
        if part["type"] in _SHOWN:
            break
    if head and head[-1]["type"] == "error":
        parts.close()
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, f"the turn failed: {head[-1]['message']}")
    extra = {"wxai_session": info.id}
    prompt = [Message.user(text)]
    if not body.stream:
        answer, errors = _collect(itertools.chain(head, parts))
        content = answer + "".join(f"\n\n(error: {e})" for e in errors)
        usage = estimate_usage(prompt, content)
        _set_usage(request, usage.total_tokens)
        return JSONResponse(
            completion(
                completion_id(), entry.alias, content=content, calls=[], finish_reason="stop",
                usage=usage, extra=extra,
            )
        )  # fmt: skip
    caller = _Caller(request, accounts, user, body.include_usage)
    return StreamingResponse(
        _turn_events(
            caller,
            ChunkWriter(entry.alias, extra),
            prompt,
            itertools.chain(head, parts),
            parts.close,
        ),
        media_type="text/event-stream",
        headers=_SSE_HEADERS,
    )


def _collect(parts: Iterator[dict[str, Any]]) -> tuple[str, list[str]]:
    """The answer text and the error messages of a whole turn."""
    text, errors = [], []
    for part in parts:
        if part["type"] == "text":
            text.append(part["delta"])
        elif part["type"] == "error":
            errors.append(part["message"])
    return "".join(text), errors


def _turn_events(
    caller: _Caller,
    out: ChunkWriter,
    prompt: list[Message],
    parts: Iterator[dict[str, Any]],
    close: Callable[[], None],
) -> Iterator[str]:
    """The turn's text parts as ``chat.completion.chunk`` events; errors become notes."""
    answer: list[str] = []
    yield out.start()
    try:
        for part in parts:
            if not caller.signed_in(important=part["type"] not in ROUTINE_PARTS):
                yield error_event("signed out", "authentication_error")
                yield DONE
                return
            if part["type"] == "text" and part["delta"]:
                delta = part["delta"]
            elif part["type"] == "error":
                delta = f"\n\n(error: {part['message']})"
            else:
                continue
            answer.append(delta)
            yield out.delta({"content": delta})
    finally:
        close()
    usage = estimate_usage(prompt, "".join(answer))
    caller.set_usage(usage.total_tokens)
    yield out.finish("stop")
    if caller.include_usage:
        yield out.usage(usage)
    yield DONE
