"""Reading recorded speech: any audio container to 16 kHz mono float32, with limits.

With PyAV installed (the ``speech`` extra) every container and codec FFmpeg knows is
decoded (WebM/Opus from browsers, Ogg, MP3, M4A, FLAC, WAV); without it only PCM WAV
is read, through the standard library's :mod:`wave`. Decoding stops as soon as the
recording passes the duration limit, so a small file that expands to hours of audio
costs no more than the limit.
"""

from __future__ import annotations

import importlib.util
import io
import wave
from dataclasses import dataclass

import numpy as np

from wxai.core.errors import DataFormatError

__all__ = [
    "SAMPLE_RATE",
    "Audio",
    "AudioError",
    "AudioTooLong",
    "EmptyAudio",
    "NoSpeechError",
    "NotAudioError",
    "load_audio",
]

SAMPLE_RATE = 16_000
"""Sample rate of decoded audio, in Hz (what Whisper and pocketsphinx expect)."""

#: Shortest recording worth recognising, in s (a click of the microphone button).
MIN_SECONDS = 0.1

# First bytes of audio containers, to tell "not audio at all" from "damaged audio".
_MAGIC: tuple[tuple[int, bytes], ...] = (
    (0, b"RIFF"),  # WAV (checked for WAVE below)
    (0, b"OggS"),  # Ogg Vorbis/Opus
    (0, b"fLaC"),
    (0, b"ID3"),  # MP3 with a tag
    (0, b"\x1a\x45\xdf\xa3"),  # Matroska/WebM (MediaRecorder in Chromium and Firefox)
    (4, b"ftyp"),  # MP4/M4A (MediaRecorder in Safari)
    (0, b"FORM"),  # AIFF
    (0, b"#!AMR"),
    (0, b"caff"),
)


class AudioError(DataFormatError):
    """Recorded audio that cannot be used (empty, damaged, too long)."""


class EmptyAudio(AudioError):
    """The upload holds no bytes or no samples."""


class NotAudioError(AudioError):
    """The upload is not an audio file at all (a text, an image, a PDF)."""


class AudioTooLong(AudioError):
    """The recording is longer than the configured maximum duration."""


class NoSpeechError(AudioError):
    """The audio holds silence or noise: nothing was recognised."""


@dataclass(frozen=True)
class Audio:
    """Decoded speech.

    Attributes
    ----------
    samples:
        Shape (n,), float32 in [-1, 1], mono at :data:`SAMPLE_RATE`.
    duration_s:
        Length in seconds (``n / SAMPLE_RATE``).
    """

    samples: np.ndarray
    duration_s: float

    @classmethod
    def from_samples(cls, samples: np.ndarray) -> Audio:
        """Wrap 16 kHz mono samples, shape (n,), as float32."""
        data = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
        return cls(samples=data, duration_s=data.size / SAMPLE_RATE)

    def pcm16(self) -> bytes:
        """The samples as little-endian signed 16-bit PCM bytes."""
        return (np.clip(self.samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()


def av_installed() -> bool:
    """True when PyAV (FFmpeg) can decode any container; else only PCM WAV is read."""
    return importlib.util.find_spec("av") is not None


def _looks_like_audio(head: bytes) -> bool:
    for offset, magic in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return magic != b"RIFF" or head[8:12] == b"WAVE"
    # MPEG audio frame sync (MP3 without a tag, ADTS AAC)
    return len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0


def _too_long(max_seconds: float) -> AudioTooLong:
    return AudioTooLong(
        f"the recording is longer than the limit of {max_seconds:g} s (WXAI_SPEECH_MAX_SECONDS); "
        "record a shorter question or split it"
    )


def _unreadable(detail: str) -> AudioError:
    return AudioError(
        f"the audio file cannot be decoded ({detail}); record again or send WAV, WebM, Ogg, "
        "MP3, M4A or FLAC"
    )


def _decode_av(data: bytes, max_seconds: float) -> np.ndarray:
    import av

    limit = int(max_seconds * SAMPLE_RATE)
    try:
        container = av.open(io.BytesIO(data), mode="r")
    except (av.FFmpegError, ValueError, OSError) as exc:
        if _looks_like_audio(data[:16]):
            raise _unreadable(str(exc)) from None
        raise NotAudioError(
            "the upload is not an audio file; send a recording (WAV, WebM, Ogg, MP3, M4A, FLAC)"
        ) from None
    chunks: list[np.ndarray] = []
    total = 0
    with container:
        if not container.streams.audio:
            raise NotAudioError(
                "the file holds no audio stream; send a recording (WAV, WebM, Ogg, MP3, M4A, FLAC)"
            )
        stream = container.streams.audio[0]
        declared = stream.duration, stream.time_base
        if None not in declared and float(declared[0] * declared[1]) > max_seconds + 0.5:
            raise _too_long(max_seconds)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1)
                    chunks.append(chunk)
                    total += chunk.size
                if total > limit + SAMPLE_RATE // 2:
                    raise _too_long(max_seconds)
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except (av.FFmpegError, ValueError) as exc:
            if not chunks:
                raise _unreadable(str(exc)) from None
            # a recording cut short at the end (browser stopped mid-frame): keep what decoded
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)


def _decode_wave(data: bytes, max_seconds: float) -> np.ndarray:
    if not _looks_like_audio(data[:16]):
        raise NotAudioError("the upload is not an audio file; send a recording as PCM WAV")
    if data[:4] != b"RIFF":
        raise _unreadable(
            "only PCM WAV can be read without the speech extra: pip install 'wxai[speech]'"
        )
    try:
        with wave.open(io.BytesIO(data), "rb") as reader:
            rate, channels, width = (
                reader.getframerate(),
                reader.getnchannels(),
                reader.getsampwidth(),
            )
            if reader.getnframes() / max(rate, 1) > max_seconds + 0.5:
                raise _too_long(max_seconds)
            frames = reader.readframes(reader.getnframes())
    except (wave.Error, EOFError) as exc:
        raise _unreadable(str(exc)) from None
    if width != 2:
        raise _unreadable(f"{8 * width}-bit WAV; send 16-bit PCM WAV or install 'wxai[speech]'")
    pcm = np.frombuffer(frames[: len(frames) - len(frames) % (2 * channels)], dtype="<i2")
    mono = pcm.reshape(-1, channels).mean(axis=1) / 32768.0
    if rate != SAMPLE_RATE and mono.size:
        from scipy.signal import resample_poly

        divisor = np.gcd(rate, SAMPLE_RATE)
        mono = resample_poly(mono, SAMPLE_RATE // divisor, rate // divisor)
    return mono.astype(np.float32)


def load_audio(data: bytes, *, max_seconds: float = 120.0) -> Audio:
    """Decode an uploaded recording to 16 kHz mono float32.

    Parameters
    ----------
    data:
        The file's bytes, any container (WAV only without PyAV).
    max_seconds:
        Longest accepted recording, in s.

    Returns
    -------
    Audio
        ``samples`` of shape (n,), float32, at :data:`SAMPLE_RATE`.

    Raises
    ------
    EmptyAudio
        No bytes, or shorter than 0.1 s.
    NotAudioError
        Not an audio file (text, image, PDF, a video without sound).
    AudioTooLong
        Longer than ``max_seconds``.
    AudioError
        An audio file that cannot be decoded.
    """
    if not data:
        raise EmptyAudio("the audio file is empty; record again and send the recording")
    decode = _decode_av if av_installed() else _decode_wave
    samples = decode(data, max_seconds)
    if samples.size > int(max_seconds * SAMPLE_RATE) + SAMPLE_RATE // 2:
        raise _too_long(max_seconds)
    if samples.size < MIN_SECONDS * SAMPLE_RATE:
        raise EmptyAudio(
            f"the recording is shorter than {MIN_SECONDS:g} s; hold the microphone button "
            "while you speak"
        )
    return Audio.from_samples(samples)
