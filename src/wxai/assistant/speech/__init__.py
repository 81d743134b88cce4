"""Speech input: recorded questions to text, offline, in German and English.

:func:`load_audio` decodes an upload to 16 kHz mono float32 with limits;
:func:`get_recognizer` returns Whisper (the ``speech`` extra) or the English-only
pocketsphinx fallback, both following :class:`SpeechRecognizer`.
"""

from wxai.assistant.speech.audio import (
    SAMPLE_RATE,
    Audio,
    AudioError,
    AudioTooLong,
    EmptyAudio,
    NoSpeechError,
    NotAudioError,
    load_audio,
)
from wxai.assistant.speech.engines import (
    LANGUAGES,
    SpeechRecognizer,
    SphinxRecognizer,
    Transcript,
    WhisperRecognizer,
    check_language,
    get_recognizer,
    whisper_available,
)
from wxai.assistant.speech.model import whisper_model_dir

__all__ = [
    "LANGUAGES",
    "SAMPLE_RATE",
    "Audio",
    "AudioError",
    "AudioTooLong",
    "EmptyAudio",
    "NoSpeechError",
    "NotAudioError",
    "SpeechRecognizer",
    "SphinxRecognizer",
    "Transcript",
    "WhisperRecognizer",
    "check_language",
    "get_recognizer",
    "load_audio",
    "whisper_available",
    "whisper_model_dir",
]
