"""A weather image read by a vision model together with measured descriptors, or not at all.

:func:`read_image` takes a PNG or JPEG (usually from
:func:`wxai.viz.ai_readable.render_ai_readable_png`), the descriptors measured from the
same data (:mod:`wxai.products.descriptors.remote_sensing`) and a task. When the chosen
model alias accepts images (``capabilities.vision`` in ``configs/models.yaml``), the
image, the descriptors (marked as measured) and the task go to the model in one user
message and the answer comes back labelled with the alias and model. Otherwise no
model is asked: the interpretation is the descriptors' own text, and it says that no
vision model was used.

Inputs are checked first: at most :data:`MAX_IMAGE_BYTES`, and the bytes must be a
PNG or JPEG that Pillow can parse (magic bytes and structure).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from wxai.assistant.llm.types import LLMProvider, Message
from wxai.core.errors import DataFormatError

__all__ = ["MAX_IMAGE_BYTES", "ImageReading", "check_image", "read_image"]

MAX_IMAGE_BYTES = 20 * 1024 * 1024
"""Largest image accepted [bytes] (20 MiB)."""

_MAGIC = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG"}

SYSTEM_PROMPT = (
    "You are a forecaster interpreting a weather map. The user message gives measured "
    "values computed from the underlying data; they are exact, so prefer them to your "
    "reading of the colours, and never contradict them. Use the image for where things "
    "are and how they are organised. Be concise and say what you cannot tell from one "
    "snapshot."
)


class Describable(Protocol):
    """Anything with a ``text()`` of measured values (the remote-sensing descriptors)."""

    def text(self) -> str: ...


@dataclass(frozen=True)
class ImageReading:
    """The interpretation of one image.

    Attributes
    ----------
    text:
        The model's answer, or the descriptors' text when no vision model was used.
    used_vision:
        Whether a vision model read the image.
    source:
        Who wrote ``text``: ``"<alias> (<model id>)"`` or ``"measured descriptors only"``.
    descriptors:
        The measured descriptors as sent (text).
    """

    text: str
    used_vision: bool
    source: str
    descriptors: str

    def labelled(self) -> str:
        """``text`` under a header naming its source."""
        if self.used_vision:
            header = f"[vision model {self.source}; image read with the measured descriptors]"
        else:
            header = "[no vision model used: interpretation from the measured descriptors only]"
        return f"{header}\n{self.text}"


def check_image(image: bytes, *, max_bytes: int = MAX_IMAGE_BYTES) -> str:
    """Check that ``image`` is a PNG or JPEG of at most ``max_bytes``; return its format.

    Raises
    ------
    DataFormatError
        Too large, not PNG/JPEG by its magic bytes, or not parseable by Pillow
        (truncated, corrupt).
    """
    from PIL import Image, UnidentifiedImageError

    if not isinstance(image, bytes | bytearray):
        raise DataFormatError(f"an image must be bytes; got {type(image).__name__}")
    if len(image) > max_bytes:
        raise DataFormatError(
            f"image is {len(image) / 2**20:.1f} MiB, over the limit of {max_bytes / 2**20:.0f} "
            "MiB; send a smaller PNG or JPEG (e.g. rendered at a lower resolution)"
        )
    kind = next((name for magic, name in _MAGIC.items() if image.startswith(magic)), None)
    if kind is None:
        raise DataFormatError(
            f"not a PNG or JPEG image (first bytes {bytes(image[:8])!r}); send a PNG or JPEG, "
            "or render radar/CTH files first (wxai.viz.ai_readable)"
        )
    try:
        with Image.open(io.BytesIO(image)) as opened:
            opened.verify()
            found = opened.format
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DataFormatError(f"{kind} image is corrupt or truncated ({exc})") from None
    if found != kind:
        raise DataFormatError(f"image starts like a {kind} but Pillow reads it as {found}")
    return kind


def _descriptor_text(descriptors: Describable | str | Sequence[Describable | str]) -> str:
    items = (
        [descriptors]
        if isinstance(descriptors, str) or hasattr(descriptors, "text")
        else list(descriptors)
    )
    texts = [d if isinstance(d, str) else d.text() for d in items]
    if not texts or not all(t.strip() for t in texts):
        raise DataFormatError("no measured descriptors given; compute them from the data first")
    return "\n\n".join(t.strip() for t in texts)


def _vision_provider(
    alias: str | None, provider: LLMProvider | None, models_path: Path | None
) -> tuple[LLMProvider | None, str]:
    """The provider to ask (None when the model cannot see images) and its label."""
    if provider is not None:
        label = f"{provider.name} ({provider.model})"
        return (provider if provider.capabilities.vision else None), label
    from wxai.assistant.llm.registry import get_model, get_provider

    entry = get_model(alias, models_path)
    label = f"{entry.alias} ({entry.model})"
    if not entry.capabilities.vision:
        return None, label
    return get_provider(entry.alias, path=models_path), label


def read_image(
    image: bytes,
    descriptors: Describable | str | Sequence[Describable | str],
    task: str,
    *,
    alias: str | None = None,
    provider: LLMProvider | None = None,
    models_path: Path | None = None,
    max_tokens: int = 700,
    max_bytes: int = MAX_IMAGE_BYTES,
) -> ImageReading:
    """Interpret a weather image with a vision model, or say that none was used.

    Parameters
    ----------
    image:
        PNG or JPEG bytes (checked by :func:`check_image`).
    descriptors:
        Measured descriptors of the pictured data (objects with ``text()``, or text).
    task:
        What to do with the image, e.g. "Describe the precipitation over Germany".
    alias:
        Model alias (default: ``WXAI_LLM_MODEL`` or the models file's default).
    provider:
        A ready provider instead of ``alias`` (its ``capabilities.vision`` decides).
    models_path:
        Models file instead of ``configs/models.yaml``.
    max_tokens, max_bytes:
        Answer budget [tokens]; image size limit [bytes].

    Raises
    ------
    DataFormatError
        Bad image (see :func:`check_image`) or no descriptors.
    ConfigError
        Empty task, or the vision alias needs an API key that is not set.
    ProviderError
        The model's server failed.
    """
    from wxai.core.errors import ConfigError

    check_image(image, max_bytes=max_bytes)
    measured = _descriptor_text(descriptors)
    if not task.strip():
        raise ConfigError("task is empty: say what the model should do with the image")
    llm, label = _vision_provider(alias, provider, models_path)
    if llm is None:
        note = f"(the model {label} does not accept images, so it was not asked)"
        return ImageReading(f"{measured}\n{note}", False, "measured descriptors only", measured)
    prompt = (
        f"Task: {task.strip()}\n\n{measured}\n\n"
        "The attached image shows the same data on a fixed map and colour scale."
    )
    answer = llm.chat(
        [Message.system(SYSTEM_PROMPT), Message.user(prompt, images=[bytes(image)])],
        max_tokens=max_tokens,
    )
    return ImageReading(answer.content.strip(), True, label, measured)
