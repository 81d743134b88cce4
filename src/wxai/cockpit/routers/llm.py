"""``/api/llm``: the language-model aliases and chat, streamed as server-sent events.

Clients see aliases and tiers only; which backend, URL and key an alias uses is
resolved here, on the server, from ``configs/models.yaml``.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from wxai.assistant.llm.registry import default_alias, get_provider, list_models
from wxai.assistant.llm.types import ChatChunk, Message
from wxai.cockpit.schemas import ChatIn, ChatOut, ErrorOut, ModelOut
from wxai.core.errors import WxaiError

router = APIRouter(prefix="/api/llm", tags=["llm"])

_ERRORS = {
    400: {"model": ErrorOut},
    404: {"model": ErrorOut, "description": "Unknown model alias"},
    502: {"model": ErrorOut, "description": "The model's service failed or is down"},
}


@router.get("/models", summary="List the model aliases")
def models() -> list[ModelOut]:
    """Every alias with its tier, capabilities and whether it can be used now."""
    default = default_alias()
    return [
        ModelOut(
            alias=entry.alias,
            tier=entry.tier,
            supplier=entry.supplier,
            description=entry.description,
            default=entry.alias == default,
            available=entry.api_key_set is not False or not entry.api_key_required,
            native_tools=entry.capabilities.native_tools,
            vision=entry.capabilities.vision,
            constrained_output=entry.capabilities.constrained_output,
            context_length=entry.capabilities.context_length,
        )
        for entry in list_models()
    ]


@router.post(
    "/chat",
    summary="Chat with a model",
    response_model=ChatOut,
    responses={
        **_ERRORS,
        200: {
            "description": "The answer; with `stream: true` a `text/event-stream` of "
            '`data: {"delta": ...}` events closed by `data: {"done": true, ...}`',
            "content": {"text/event-stream": {}},
        },
    },
)
def chat(body: ChatIn) -> ChatOut | StreamingResponse:
    """Answer a conversation, greedy unless a temperature is given.

    An unknown alias answers 404 listing the valid ones, a missing API key 400, a
    provider that is down or fails 502. When streaming, errors that happen after
    the first token arrive as an ``event: error`` with a ``detail``.
    """
    alias = body.model or default_alias()
    provider = get_provider(alias)
    messages = [Message(m.role, m.content) for m in body.messages]
    options = {"max_tokens": body.max_tokens, "temperature": body.temperature}
    if not body.stream:
        answer = provider.chat(messages, **options)
        return ChatOut(model=alias, content=answer.content, finish_reason=answer.finish_reason)
    chunks = provider.stream(messages, **options)
    # Wait for the first chunk here, so a provider that is down still answers 502.
    first = next(chunks, None)
    head = [] if first is None else [first]
    return StreamingResponse(
        _events(itertools.chain(head, chunks)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _events(chunks: Iterator[ChatChunk]) -> Iterator[str]:
    finish = "stop"
    try:
        for chunk in chunks:
            if chunk.delta:
                yield f"data: {json.dumps({'delta': chunk.delta})}\n\n"
            finish = chunk.finish_reason or finish
    except WxaiError as exc:
        yield f"event: error\ndata: {json.dumps({'detail': str(exc)})}\n\n"
        return
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    yield f"data: {json.dumps({'done': True, 'finish_reason': finish})}\n\n"
