"""The chat's image reader: uploaded pictures, radar composites and cloud-top height files.

``read_image`` takes a file of the user's dataspaces and shows it in the answer:

- a PNG or JPEG as uploaded (copied to a PNG figure, at most
  :data:`DISPLAY_PIXELS` on its longer side);
- an ODIM_H5 reflectivity composite or a cloud-top height (CTH) NetCDF file rendered
  first on the fixed AI-readable map and colour scale (:mod:`wxai.viz.ai_readable`),
  with descriptors measured from the data
  (:mod:`wxai.products.descriptors.remote_sensing`).

The picture then goes to the vision route (:func:`wxai.assistant.read_image.read_image`):
the session's model reads it when that model accepts images (``capabilities.vision``);
otherwise no model is asked, and the answer is the measured descriptors, saying so
and naming models that could read the image.
"""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wxai.assistant.llm.tools.tool import Tool, tool
from wxai.assistant.llm.types import LLMProvider
from wxai.cockpit.chat_rules import field_of, pick_point
from wxai.cockpit.chat_tools import FigureStore, ToolUnavailable
from wxai.core.errors import DataFormatError

__all__ = [
    "DISPLAY_PIXELS",
    "VisionRoute",
    "image_call",
    "image_tools",
    "is_image_like",
    "no_vision_note",
    "vision_advice",
]

DISPLAY_PIXELS = 1600
"""Longest side [pixels] of an uploaded picture as shown in the chat."""
DEFAULT_TASK = "Describe what the image shows, for a weather forecaster."

_THIS_IMAGE = re.compile(
    r"\b(this|the|my|uploaded|attached)\s+(image|picture|photo|screenshot|bild|foto|"
    r"radar (file|composite|image)|satellite (file|image)|cth file|cloud[- ]top (file|image))\b",
    re.IGNORECASE,
)


_IMAGE_NAME = re.compile(r"(?<![\w.])[\w.-]+\.(png|jpe?g|h5|hdf5?)\b", re.IGNORECASE)


@dataclass(frozen=True)
class VisionRoute:
    """The session's model alias and how to make its provider (the chat's factory)."""

    alias: str
    provider_factory: Callable[[str], LLMProvider]

    def provider(self) -> LLMProvider | None:
        """The provider when the alias accepts images, else None (it is not asked)."""
        from wxai.assistant.llm.registry import get_model

        if not get_model(self.alias).capabilities.vision:
            return None
        return self.provider_factory(self.alias)


def vision_aliases(limit: int = 4) -> list[str]:
    """Up to ``limit`` aliases of the models file that accept images (for advice)."""
    from wxai.assistant.llm.registry import load_models

    return [a for a, m in load_models().items() if m.capabilities.vision][:limit]


def is_image_like(record: Any) -> bool:
    """Whether a dataspace file is a picture, an ODIM composite or a CTH NetCDF file."""
    if field_of(record, "kind") == "image":
        return True
    summary = field_of(record, "summary") or {}
    if summary.get("format") == "odim":
        return True
    return summary.get("format") == "netcdf" and "CTH" in (summary.get("variables") or {})


def image_call(text: str, files: Iterable[Any]) -> tuple[str, dict[str, Any]] | None:
    """``("read_image", arguments)`` when ``text`` names an uploaded image-like file, or
    says "this image" (then the newest such upload), else None."""
    images = [f for f in files if is_image_like(f)]
    if not images:
        # a picture's file name the user cannot read: the tool answers which they can
        named = _IMAGE_NAME.search(text)
        return ("read_image", {"file": named.group(0), "task": text}) if named else None
    # the whole name: a stem such as "radar" is also a word ("what does the radar show")
    named = [f for f in images if _names(text, str(field_of(f, "name", "")))]
    record = named[0] if len(named) == 1 else None
    if record is None and not named and _THIS_IMAGE.search(text):
        record = max(images, key=lambda f: str(field_of(f, "created_at", "")))
    if record is None:
        return None
    if field_of(record, "kind") == "data" and pick_point(text) is not None:
        return None  # "CTH at Frankfurt in cth.nc": a value, for field_value
    return "read_image", {"file": str(field_of(record, "name")), "task": text}


def _names(text: str, name: str) -> bool:
    return bool(name) and re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", text, re.I) is not None


@dataclass(frozen=True)
class _Picture:
    """What is shown and read: PNG bytes for the chat, bytes for the model, measured text."""

    shown: bytes
    sent: bytes
    descriptors: str
    what: str


def _display_png(image: bytes) -> bytes:
    """``image`` (PNG/JPEG) as a PNG of at most :data:`DISPLAY_PIXELS` on its longer side."""
    from PIL import Image

    with Image.open(io.BytesIO(image)) as opened:
        if opened.format == "PNG" and max(opened.size) <= DISPLAY_PIXELS:
            return image
        picture = opened.convert("RGBA" if "A" in opened.getbands() else "RGB")
        picture.thumbnail((DISPLAY_PIXELS, DISPLAY_PIXELS))
        out = io.BytesIO()
        picture.save(out, format="PNG")
        return out.getvalue()


def _picture(record: Any, path: Path) -> _Picture:
    """Render and measure a stored file (see the module docstring for the three kinds)."""
    name = str(field_of(record, "name"))
    summary = field_of(record, "summary") or {}
    if field_of(record, "kind") == "image":
        data = path.read_bytes()
        size = f"{summary.get('width', '?')} x {summary.get('height', '?')} pixels"
        fmt = str(summary.get("format", "image")).upper()
        facts = (
            f"Uploaded picture `{name}` ({fmt}, {size}). No measured values come with a "
            "picture: only what can be seen in it."
        )
        return _Picture(_display_png(data), data, facts, f"{fmt} image, {size}")
    from wxai.viz.ai_readable import render_ai_readable_png

    if summary.get("format") == "odim":
        from wxai.data.formats.odim import read_odim
        from wxai.products.descriptors.remote_sensing import NO_ECHO_DBZ, descriptors_from_file

        measured = descriptors_from_file(path)
        field = read_odim(path, undetect_value=NO_ECHO_DBZ)
        when = str(field["time"].values)[:16].replace("T", " ") + " UTC"
        png = render_ai_readable_png(field, "radar", title=f"{name}, {when}")
        return _Picture(png, png, measured.text(), f"radar composite, {when}")
    if summary.get("format") == "netcdf":
        from wxai.data.sources.dwd_cth import open_cth
        from wxai.products.descriptors.remote_sensing import cloud_top_descriptors

        try:
            cth = open_cth(path)["CTH"]  # type: ignore[index]
        except DataFormatError as exc:
            raise DataFormatError(f"{name}: not a cloud-top height file ({exc})") from None
        png = render_ai_readable_png(cth, "cth", title=name)
        return _Picture(png, png, cloud_top_descriptors(cth).text(), "cloud-top height")
    raise DataFormatError(
        f"{name}: read_image reads PNG and JPEG pictures, ODIM_H5 radar composites and "
        "cloud-top height (CTH) NetCDF files; ask for a map of one of its variables instead"
    )


def vision_advice() -> str:
    """Which aliases to choose to have images read (for answers without a vision model)."""
    choices = ", ".join(f"`{a}`" for a in vision_aliases()) or "none in this server's models file"
    return f"choose a model that reads images ({choices}) and ask again"


def no_vision_note(route: VisionRoute | None) -> str:
    """Why no model read an image, and which to choose."""
    why = f"the session's model `{route.alias}` does not accept images" if route else (
        "no model was chosen"
    )  # fmt: skip
    return f"no vision model read it: {why}; {vision_advice()}"


def _who_read(reading: Any, route: VisionRoute | None) -> str:
    if reading.used_vision:
        return f"read by the vision model {reading.source}, given the measured values"
    return f"{no_vision_note(route)}. The text above is what was measured"


def image_tools(
    app_state: Any, principal: Any, figures: FigureStore, vision: VisionRoute | None
) -> list[Tool]:
    """``read_image`` for the user ``principal`` (files of their dataspaces)."""
    from wxai.assistant.read_image import read_image as interpret

    @tool(
        requests=(
            "describe the uploaded image radar.png",
            "what does composite.h5 show",
            "where are the highest cloud tops in cth.nc",
        )
    )
    def read_image(file: str, task: str = DEFAULT_TASK) -> dict[str, Any]:
        """Show an uploaded picture, radar composite or cloud-top height file and read it.

        Parameters
        ----------
        file:
            The file's name or id in the user's dataspaces (PNG, JPEG, ODIM_H5, CTH NetCDF).
        task:
            What to find out from the image, in words.
        """
        store = getattr(app_state, "dataspaces", None)
        if store is None:
            raise ToolUnavailable("dataspaces are not set up on this server; ask an administrator")
        record, path = store.data_file(principal, file, kinds=("data", "image"))
        name = str(field_of(record, "name"))
        picture = _picture(record, Path(path))
        provider = vision.provider() if vision is not None else None
        reading = interpret(picture.sent, picture.descriptors, task or DEFAULT_TASK,
                            provider=provider, alias=vision.alias if vision else None)  # fmt: skip
        scratch = figures.scratch()
        try:
            shown = scratch / "image.png"
            shown.write_bytes(picture.shown)
            urls = [figures.adopt(shown)]
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        text = "\n\n".join([
            f"**`{name}`** ({picture.what})",
            reading.text if reading.used_vision else reading.descriptors,
            f"_{_who_read(reading, vision)}._",
        ])  # fmt: skip
        return {
            "file": name,
            "what": picture.what,
            "used_vision": reading.used_vision,
            "source": reading.source,
            "descriptors": reading.descriptors,
            "text": text,
            "figures": urls,
        }

    return [read_image]
