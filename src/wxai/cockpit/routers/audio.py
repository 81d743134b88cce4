"""Speech input: ``POST /api/audio/transcriptions`` and OpenAI's ``/v1/audio/transcriptions``.

Both take ``multipart/form-data`` with the recording in the field ``file`` (any
container the browser records: WebM/Opus, Ogg, MP4, WAV, MP3, FLAC), read as a stream
and refused with 413 as soon as it passes ``WXAI_UPLOAD_MAX_MB``. Recognition runs in
a worker thread, off the event loop.

========================  ======
problem                   status
========================  ======
empty, too long, damaged  400
larger than upload limit  413
not audio                 415
no speech recognised      422
unknown model (``/v1/``)  404
speech extra missing      503
========================  ======
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from wxai.assistant.speech import (
    AudioError,
    AudioTooLong,
    EmptyAudio,
    NoSpeechError,
    NotAudioError,
    Transcript,
    check_language,
    get_recognizer,
    load_audio,
)
from wxai.cockpit.auth import UserDep
from wxai.cockpit.form_stream import read_form
from wxai.cockpit.openai_api import OpenAIErrorOut
from wxai.cockpit.schemas import ErrorOut
from wxai.core.settings import Settings

router = APIRouter(tags=["audio"])

#: Model names ``/v1/audio/transcriptions`` accepts (OpenAI's and ours).
MODELS = ("whisper-1", "whisper-base")
RESPONSE_FORMATS = ("json", "text", "verbose_json")
SHORTER = "record a shorter question"
_LANGUAGE_NAMES = {"de": "german", "en": "english"}
_STATUS = (
    (NotAudioError, status.HTTP_415_UNSUPPORTED_MEDIA_TYPE),
    (NoSpeechError, status.HTTP_422_UNPROCESSABLE_CONTENT),
    ((EmptyAudio, AudioTooLong, AudioError), status.HTTP_400_BAD_REQUEST),
)
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Empty, too long or damaged audio; bad field"},
    413: {"model": ErrorOut, "description": "Larger than WXAI_UPLOAD_MAX_MB"},
    415: {"model": ErrorOut, "description": "The file is not audio"},
    422: {"model": ErrorOut, "description": "No speech recognised (silence or noise)"},
    503: {"model": ErrorOut, "description": "Speech recognition is not installed"},
}
#: The same answers under /v1/, where errors take OpenAI's shape.
_V1_ERRORS: dict[int | str, dict[str, Any]] = {
    **{code: {**entry, "model": OpenAIErrorOut} for code, entry in _ERRORS.items()},
    401: {"model": OpenAIErrorOut, "description": "Missing or invalid API key"},
    404: {"model": OpenAIErrorOut, "description": "Unknown model"},
}
_BINARY = {"type": "string", "format": "binary"}


def _body(fields: dict[str, Any]) -> dict[str, Any]:
    schema = {"type": "object", "properties": {"file": _BINARY, **fields}, "required": ["file"]}
    content = {"multipart/form-data": {"schema": schema}}
    return {"requestBody": {"required": True, "content": content}}


class TranscriptOut(BaseModel):
    """What was recognised in a recording."""

    text: str = Field(description="The recognised words; check them before sending.")
    language: str = Field(description='"de" or "en"')
    language_probability: float = Field(description="Share of the language among de and en.")
    duration_s: float = Field(description="Length of the recording, in s.")
    engine: str = Field(description='"whisper-base" or "pocketsphinx"')
    seconds: float = Field(description="Time the recognition took, in s.")


class OpenAITranscriptionOut(BaseModel):
    """OpenAI's transcription answer (``response_format=json``)."""

    text: str


def recognise(data: bytes, language: str | None, settings: Settings) -> Transcript:
    """Decode and recognise one recording (blocking: call it in a worker thread).

    Raises
    ------
    HTTPException
        400/415/422 for unusable audio or no speech (see the module docstring).
    """
    try:
        audio = load_audio(data, max_seconds=settings.speech_max_seconds)
        cache_dir = settings.speech_cache_dir or settings.home / "cache" / "speech"
        recognizer = get_recognizer(language, cache_dir=cache_dir, threads=settings.speech_threads)
        transcript = recognizer.transcribe(audio, language)
        if not transcript.text:
            raise NoSpeechError(
                "no speech recognised in the recording (silence or noise); speak closer to "
                "the microphone and try again"
            )
    except AudioError as exc:
        code = next(code for kinds, code in _STATUS if isinstance(exc, kinds))
        raise HTTPException(code, str(exc)) from None
    return transcript


async def _transcribe(request: Request) -> tuple[Transcript, dict[str, str]]:
    settings: Settings = request.app.state.settings
    form = await read_form(
        request, int(settings.upload_max_mb * 2**20), what="recording", hint=SHORTER
    )
    data, fields = form.data, form.fields
    language = check_language(fields.get("language"))
    transcript = await run_in_threadpool(recognise, data, language, settings)
    return transcript, fields


@router.post(
    "/api/audio/transcriptions",
    summary="Recognise a spoken question",
    responses=_ERRORS,
    openapi_extra=_body({"language": {"type": "string", "enum": ["", "auto", "de", "en"]}}),
)
async def transcribe_audio(request: Request, user: UserDep) -> TranscriptOut:
    """Turn a recording into text (German or English, detected unless ``language`` is set).

    The cockpit puts the text into the input box for you to check; nothing is sent.
    """
    transcript, _ = await _transcribe(request)
    return TranscriptOut(**transcript.__dict__)


def _check_openai_fields(fields: dict[str, str]) -> str:
    model = fields.get("model", "")
    if not model:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, f"the form field 'model' is required: one of {MODELS}"
        )
    if model not in MODELS:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"the model {model!r} does not exist for transcriptions; "
            f"use one of {', '.join(MODELS)}",
        )
    response_format = fields.get("response_format") or "json"
    if response_format not in RESPONSE_FORMATS:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"response_format {response_format!r} is not supported; use one of "
            f"{', '.join(RESPONSE_FORMATS)}",
        )
    temperature = fields.get("temperature", "")
    if temperature:
        try:
            float(temperature)
        except ValueError:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST, f"temperature {temperature!r} is not a number"
            ) from None
    return response_format


@router.post(
    "/v1/audio/transcriptions",
    summary="Transcribe audio (OpenAI-compatible)",
    responses=_V1_ERRORS,
    openapi_extra=_body(
        {
            "model": {"type": "string", "enum": list(MODELS)},
            "language": {"type": "string", "enum": ["de", "en"]},
            "response_format": {"type": "string", "enum": list(RESPONSE_FORMATS)},
            "prompt": {"type": "string"},
            "temperature": {"type": "number"},
        }
    ),
    response_model=None,
)
async def openai_transcriptions(
    request: Request, user: UserDep
) -> dict[str, Any] | PlainTextResponse:
    """OpenAI's ``audio.transcriptions.create``: ``model`` whisper-1 or whisper-base.

    ``prompt`` and ``temperature`` are accepted and not used; ``response_format`` is
    json (``{"text"}``), text or verbose_json.
    """
    settings: Settings = request.app.state.settings
    form = await read_form(
        request, int(settings.upload_max_mb * 2**20), what="recording", hint=SHORTER
    )
    data, fields = form.data, form.fields
    response_format = _check_openai_fields(fields)
    language = check_language(fields.get("language"))
    transcript = await run_in_threadpool(recognise, data, language, settings)
    if response_format == "text":
        return PlainTextResponse(transcript.text + "\n")
    if response_format == "verbose_json":
        return {
            "task": "transcribe",
            "language": _LANGUAGE_NAMES.get(transcript.language, transcript.language),
            "duration": transcript.duration_s,
            "text": transcript.text,
            "segments": [],
        }
    return {"text": transcript.text}
