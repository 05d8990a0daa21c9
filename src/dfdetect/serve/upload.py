"""Receive one uploaded file: the multipart body is streamed into a given folder, never held in
memory whole and never spooled anywhere else, and refused once it passes the size limit.

Why not FastAPI's ``UploadFile``: Starlette spools uploads into the system's temporary folder
before the endpoint runs, with no size limit; here the bytes go only to the request's own
folder and stop at the size limit.

Example (inside an endpoint)::

    path, name = await receive_file(request, folder, max_mb=50)
    # path = folder / "upload.mp4" (suffix of the client's file name), name = "clip.mp4"
"""
from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from python_multipart.multipart import MultipartParser, parse_options_header

#: the form field that carries the file (``curl -F file=@clip.mp4``)
FIELD = "file"
#: bytes of a refused body still read (and dropped) so that the client sees the error response
DRAIN_LIMIT = 8 * 2**20


class UploadError(Exception):
    """A request whose upload is refused: ``status`` (413, 422) and a message for the user."""

    def __init__(self, status: int, message: str, **extra) -> None:
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra


def too_large(max_mb: float) -> UploadError:
    return UploadError(413, f"upload larger than the server's limit of {max_mb:g} MB "
                            f"(max_upload_mb={max_mb:g})", limit_bytes=limit_bytes(max_mb))


def limit_bytes(max_mb: float) -> int:
    return int(max_mb * 2**20)


def safe_name(filename: str) -> str:
    """The client's file name without any folder part (shown back to the user, never a path)."""
    base = PurePosixPath(filename.replace("\\", "/")).name
    return "".join(c for c in base if c.isprintable())[:200] or "upload"


def safe_suffix(name: str) -> str:
    """``.mp4`` from ``clip.MP4``; '' when the name has no plain suffix."""
    suffix = PurePosixPath(name).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,10}", suffix) else ""


class _FilePart:
    """Parser callbacks: the first part named ``file`` goes to ``target``; others are dropped."""

    def __init__(self, target_dir: Path, max_mb: float) -> None:
        self.dir, self.max_mb, self.max_bytes = target_dir, max_mb, limit_bytes(max_mb)
        self.header_field, self.header_value = b"", b""
        self.headers: dict[bytes, bytes] = {}
        self.out = None
        self.path: Path | None = None
        self.name = ""
        self.size = 0
        self.error: UploadError | None = None

    def callbacks(self) -> dict:
        return {"on_part_begin": self.begin, "on_header_field": self.field,
                "on_header_value": self.value, "on_header_end": self.header_end,
                "on_headers_finished": self.headers_done, "on_part_data": self.data,
                "on_part_end": self.end}

    def begin(self) -> None:
        self.headers = {}

    def field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def header_end(self) -> None:
        self.headers[self.header_field.strip().lower()] = self.header_value
        self.header_field, self.header_value = b"", b""

    def headers_done(self) -> None:
        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        if self.path is None and options.get(b"name") == FIELD.encode():
            self.name = safe_name(options.get(b"filename", b"").decode("utf-8", "replace"))
            self.path = self.dir / ("upload" + safe_suffix(self.name))
            self.out = open(self.path, "wb")  # noqa: SIM115 - closed in end() / close()

    def data(self, data: bytes, start: int, end: int) -> None:
        if self.out is None or self.error is not None:
            return
        self.size += end - start
        if self.size > self.max_bytes:
            self.error = too_large(self.max_mb)
            self.close()
            return
        self.out.write(data[start:end])

    def end(self) -> None:
        self.close()

    def close(self) -> None:
        if self.out is not None:
            self.out.close()
            self.out = None


async def receive_file(request, folder: Path, max_mb: float) -> tuple[Path, str]:
    """Stream the request's ``file`` part into ``folder``; returns (saved path, client's name).

    Raises UploadError: 413 over ``max_mb`` MiB (from Content-Length before reading, or while
    streaming), 422 for a body that is not multipart/form-data or has no ``file`` part."""
    max_bytes = limit_bytes(max_mb)
    kind, params = parse_options_header(request.headers.get("content-type", ""))
    if kind != b"multipart/form-data" or not params.get(b"boundary"):
        raise UploadError(422, "send the file as multipart/form-data in a field named "
                               f"'{FIELD}' (curl -F {FIELD}=@photo.jpg ...)")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes + 64 * 1024:  # + multipart framing
        raise too_large(max_mb)
    part = _FilePart(folder, max_mb)
    parser = MultipartParser(params[b"boundary"], part.callbacks())
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if part.error is None:
                parser.write(chunk)
            elif received > max_bytes + DRAIN_LIMIT:
                break
        if part.error is None:
            parser.finalize()
    except UploadError:
        raise
    except Exception as e:  # noqa: BLE001 - a malformed body is the client's error
        raise UploadError(422, f"malformed multipart body ({type(e).__name__}: {e})") from None
    finally:
        part.close()
    if part.error is not None:
        raise part.error
    if part.path is None:
        raise UploadError(422, f"no '{FIELD}' field in the form: send the file as "
                               f"{FIELD}=<the file>")
    return part.path, part.name
