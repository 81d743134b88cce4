"""Multipart uploads read as a stream, so an oversized body is refused early.

One reader serves every upload route (dataspace files, audio recordings): it parses
``multipart/form-data`` with python-multipart's push parser while the body arrives,
answers 413 as soon as the file passes the limit, and keeps the small form fields
beside the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException, Request, status
from python_multipart.multipart import MultipartParser, parse_options_header

from wxai.cockpit.uploads import UploadError

#: Room for the multipart envelope and the small form fields beyond the file itself.
ENVELOPE_BYTES = 64 * 1024
#: Largest value of a form field other than ``file``, in bytes.
FIELD_BYTES = 4096


@dataclass
class StreamedForm:
    """What a multipart body carried: the first ``file`` part and the other fields."""

    filename: str = ""
    data: bytes = b""
    fields: dict[str, str] = field(default_factory=dict)


def too_large(limit: int, what: str = "file", hint: str = "") -> HTTPException:
    """The 413 answer for a body past ``limit`` bytes (``WXAI_UPLOAD_MAX_MB``)."""
    message = f"the {what} is larger than the limit of {limit / 2**20:g} MiB (WXAI_UPLOAD_MAX_MB)"
    return HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, message + (f"; {hint}" if hint else ""))


async def read_form(
    request: Request, limit: int, *, what: str = "file", hint: str = ""
) -> StreamedForm:
    """Read the multipart body of ``request``: the field ``file`` and the small fields.

    Parameters
    ----------
    request:
        The incoming request; its body is consumed.
    limit:
        Largest file in bytes; the body may be larger by :data:`ENVELOPE_BYTES`.
    what, hint:
        How error messages name the file ("file", "recording") and what they advise.

    Raises
    ------
    HTTPException
        413 as soon as the body passes the limit (the declared length is checked first).
    UploadError
        (400) a body that is not multipart, cannot be parsed, has no ``file`` field,
        or a field longer than :data:`FIELD_BYTES`.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + ENVELOPE_BYTES:
        raise too_large(limit, what, hint)
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise UploadError(f"send the {what} as multipart/form-data in the field 'file'")
    form = StreamedForm()
    data = bytearray()
    header: dict[str, bytes] = {"field": b"", "value": b""}
    part: dict[str, Any] = {"headers": {}, "name": "", "value": bytearray(), "file": False}
    seen_file: list[bool] = []

    def on_part_begin() -> None:
        part.update(headers={}, name="", value=bytearray(), file=False)

    def on_header_field(chunk: bytes, start: int, end: int) -> None:
        header["field"] += chunk[start:end]

    def on_header_value(chunk: bytes, start: int, end: int) -> None:
        header["value"] += chunk[start:end]

    def on_header_end() -> None:
        part["headers"][header["field"].lower()] = header["value"]
        header["field"], header["value"] = b"", b""

    def on_headers_finished() -> None:
        _, options = parse_options_header(part["headers"].get(b"content-disposition", b""))
        part["name"] = options.get(b"name", b"").decode("utf-8", "replace")
        if part["name"] == "file" and not seen_file:
            seen_file.append(True)
            part["file"] = True
            form.filename = options.get(b"filename", b"").decode("utf-8", "replace")

    def on_part_data(chunk: bytes, start: int, end: int) -> None:
        if part["file"]:
            data.extend(chunk[start:end])
        elif part["name"]:
            part["value"].extend(chunk[start:end])
            if len(part["value"]) > FIELD_BYTES:
                raise UploadError(f"the form field {part['name']!r} is longer than {FIELD_BYTES} B")

    def on_part_end() -> None:
        name = part["name"]
        if name and not part["file"] and name != "file" and name not in form.fields:
            form.fields[name] = bytes(part["value"]).decode("utf-8", "replace").strip()

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit + ENVELOPE_BYTES or len(data) > limit:
            raise too_large(limit, what, hint)
        try:
            parser.write(chunk)
        except UploadError:
            raise
        except Exception as exc:  # python-multipart's own parse errors
            raise UploadError(f"the multipart body cannot be parsed ({exc})") from None
        if len(data) > limit:
            raise too_large(limit, what, hint)
    if not seen_file:
        raise UploadError(f"no {what} in the request: send it in the multipart field 'file'")
    form.data = bytes(data)
    return form
