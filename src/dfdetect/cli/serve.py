"""``dfdetect serve``: parse -> ServeConfig -> :func:`dfdetect.serve.server.serve`."""
from __future__ import annotations

from dfdetect.config.schema import ServeConfig


def run_serve(cfg: ServeConfig) -> None:
    from dfdetect.serve.server import serve

    serve(cfg)
