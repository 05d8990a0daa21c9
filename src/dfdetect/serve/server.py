"""Run the application with uvicorn: bind the address first (a taken port is a clear user
error, ``port=0`` picks a free one), print where it listens, then serve until Ctrl+C.

``workers>1`` starts that many processes sharing the socket, each loading the model once
(:func:`dfdetect.serve.app.app_from_env`); the model is loaded in this process first too, so a
bad checkpoint fails before any worker starts.

Example::

    serve(ServeConfig(ckpt="runs/demo/run/best.ckpt", port=8000))
"""
from __future__ import annotations

import json
import os
import socket
import sys

from dfdetect.config.errors import ConfigError
from dfdetect.config.schema import ServeConfig


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready socket on (host, port); ConfigError naming the address if it fails."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {e.strerror or e} (pass port=<free "
                          "port>, or port=0 for any)") from None
    sock.listen(2048)  # connections wait in the backlog until a worker accepts them
    sock.set_inheritable(True)
    return sock


def address(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(cfg: ServeConfig, echo=print) -> None:
    """Load the model, bind, print the address, serve (blocks until interrupted)."""
    try:
        import uvicorn

        from dfdetect.serve.app import CONFIG_ENV, create_app
    except ImportError as e:
        raise ConfigError(f"dfdetect serve needs the serve extra ({e.name} is missing): "
                          "pip install 'dfdetect[serve]'") from None

    app = create_app(cfg)  # the model loads here: a bad ckpt= fails before binding
    sock = bind(cfg.host, cfg.port)
    url = address(sock)
    info = app.state.engine.model_info()
    echo(f"Serving {', '.join(c['file'] for c in info['checkpoints'])} "
         f"({info['model'].get('name', '?')}, {info['modality']}) at {url}/ · API docs "
         f"{url}/docs · {cfg.workers} worker(s), {cfg.max_concurrent} files at once each · "
         "Ctrl+C stops")
    sys.stdout.flush()  # the address is read by scripts and tests as soon as it is printed
    if cfg.workers == 1:
        config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=5)
        uvicorn.Server(config).run(sockets=[sock])
        return
    del app  # each worker loads its own copy
    os.environ[CONFIG_ENV] = json.dumps(vars(cfg))
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config("dfdetect.serve.app:app_from_env", factory=True, log_level="warning",
                            workers=cfg.workers, timeout_graceful_shutdown=5)
    Multiprocess(config, sockets=[sock]).run()  # what uvicorn.run does, with our socket
