"""The FastAPI application: ``POST /v1/score``, ``GET /v1/model``, ``GET /health``, the web
page at ``/`` (files in ``static/``, shipped with the package) and the OpenAPI docs at ``/docs``
(Swagger UI from the fastapi-offline package): nothing is loaded from a CDN.

Every error is JSON ``{"status": "error", "error": "<reason>", ...}``: 413 for an upload over
``max_upload_mb``, 422 for a file that is unsupported, unreadable or too long (the reason names
the limit), 503 with ``Retry-After`` when ``max_concurrent`` files are being scored and no slot
frees within ``queue_timeout`` seconds. Each upload lives in its own temporary folder (under
``tmp_dir``) that is removed when the request ends, whatever happened.

Example::

    app = create_app(ServeConfig(ckpt="runs/demo/run/best.ckpt"))   # loads the model once
    # uvicorn.run(app, host="127.0.0.1", port=8000), or `dfdetect serve ckpt=...`
"""
from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import tempfile
import time
import uuid
from pathlib import Path

from fastapi import Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline  # /docs with Swagger UI served locally (no CDN)
from starlette.concurrency import run_in_threadpool

from dfdetect.__version__ import __version__
from dfdetect.config.schema import ServeConfig
from dfdetect.serve.engine import Engine, ScoreError
from dfdetect.serve.upload import FIELD, UploadError, receive_file

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
#: environment variable that hands the config to worker processes (``workers>1``)
CONFIG_ENV = "DFDETECT_SERVE_CONFIG"

SCORE_BODY = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": [FIELD],
    "properties": {FIELD: {"type": "string", "format": "binary",
                           "description": "an image, a video or an audio clip"}}}}}}


def error(status: int, message: str, headers: dict | None = None, **extra) -> JSONResponse:
    return JSONResponse({"status": "error", "error": message, **extra}, status_code=status,
                        headers=headers)


class Slots:
    """At most ``n`` files scored at once; a request waits up to ``timeout`` seconds for a slot.
    ``retry_after`` estimates when one frees, from the mean time of recent requests."""

    def __init__(self, n: int, timeout: float) -> None:
        self.n, self.timeout = n, timeout
        self.sem = asyncio.Semaphore(n)
        self.waiting = 0
        self.mean_seconds = 1.0

    async def acquire(self) -> bool:
        self.waiting += 1
        try:
            await asyncio.wait_for(self.sem.acquire(), timeout=self.timeout)
            return True
        except asyncio.TimeoutError:
            return False
        finally:
            self.waiting -= 1

    def release(self, seconds: float) -> None:
        self.mean_seconds = 0.8 * self.mean_seconds + 0.2 * seconds
        self.sem.release()

    def retry_after(self) -> int:
        return max(1, math.ceil(self.mean_seconds * (self.waiting + 1) / self.n))


def create_app(cfg: ServeConfig, engine: Engine | None = None):
    """The application for ``cfg``; the model is loaded here, once (``engine`` replaces it in
    tests). Raises the loader's user errors (missing checkpoint, bad option) before serving."""
    from dfdetect.config.choices import check_choices

    check_choices(cfg)
    engine = engine or Engine.load(cfg)
    tmp_root = Path(cfg.tmp_dir).expanduser() if cfg.tmp_dir else Path(tempfile.gettempdir())
    tmp_root.mkdir(parents=True, exist_ok=True)
    slots = Slots(cfg.max_concurrent, cfg.queue_timeout)
    app = FastAPIOffline(title="dfdetect", version=__version__,
                         description="Deepfake detection: score an image, a video or an audio "
                                     "clip. Score = P(fake); label at the model's threshold.")
    app.state.engine, app.state.slots, app.state.tmp_root = engine, slots, tmp_root

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):  # a bug: still JSON, logged
        log.exception("unexpected error on %s", request.url.path)
        return error(500, f"internal error ({type(exc).__name__}); the server log has the "
                          "traceback: please report it")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(STATIC / "index.html")

    @app.get("/health")
    def health():
        """Liveness: the model is loaded and the server answers."""
        return {"status": "ok", "version": __version__,
                "model": engine.model_info()["model"].get("name")}

    @app.get("/v1/model")
    def model():
        """The checkpoint's metadata: model, modality, input spec, threshold and how it was
        chosen, training data summary, and the server's limits."""
        return engine.model_info()

    @app.post("/v1/score", openapi_extra={"requestBody": SCORE_BODY})
    async def score(request: Request):
        """Score one uploaded file (form field ``file``). Returns id, name, modality, score =
        P(fake), label, threshold, status, error; videos add ``frames`` (frame, time, score,
        face box) and ``thumbnails``; audio adds ``windows`` (start, end, score)."""
        rid = uuid.uuid4().hex[:12]
        with tempfile.TemporaryDirectory(prefix="dfdetect-upload-", dir=tmp_root) as folder:
            try:
                path, name = await receive_file(request, Path(folder), cfg.max_upload_mb)
            except UploadError as e:
                return error(e.status, e.message, id=rid, **e.extra)
            if not await slots.acquire():
                wait = slots.retry_after()
                return error(503, f"busy: {cfg.max_concurrent} files are being scored and no "
                                  f"slot freed within {cfg.queue_timeout:g} s; retry in {wait} s",
                             headers={"Retry-After": str(wait)}, id=rid, name=name)
            start = time.perf_counter()
            try:
                result = await run_in_threadpool(engine.score_file, str(path), name)
            except ScoreError as e:
                return error(e.status, e.message, id=rid, name=name, **e.extra)
            finally:
                slots.release(time.perf_counter() - start)
        return JSONResponse({"id": rid, **result,
                             "seconds": round(time.perf_counter() - start, 3)})

    return app


def app_from_env():
    """Application factory for uvicorn worker processes: the config comes as JSON in
    ``$DFDETECT_SERVE_CONFIG`` (set by :func:`dfdetect.serve.server.serve`)."""
    return create_app(ServeConfig(**json.loads(os.environ[CONFIG_ENV])))
