"""`dfdetect serve` as a command: user errors exit 2 with one line, before anything listens."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="dfdetect serve needs the serve extra: pip install "
                    "'dfdetect[serve]'")

from dfdetect.cli.main import main  # noqa: E402
from dfdetect.config.errors import ConfigError  # noqa: E402
from dfdetect.serve.server import address, bind  # noqa: E402


def test_a_missing_checkpoint_exits_2_naming_it(tmp_path, capsys):
    missing = tmp_path / "nowhere.ckpt"
    assert main(["serve", f"ckpt={missing}", "device=cpu"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(missing) in err


@pytest.mark.parametrize("option,expected", [("", "serve needs ckpt="),
                                             ("aggregation=median", "aggregation=median"),
                                             ("max_upload_mb=0", "max_upload_mb=0")])
def test_bad_options_exit_2(make_tiny_ckpt, capsys, option, expected):
    args = ["serve", "device=cpu"] + ([option] if option else [])
    if not option.startswith("ckpt") and option:
        args.append(f"ckpt={make_tiny_ckpt(image_size=32)}")
    assert main(args) == 2
    assert expected in capsys.readouterr().err


def test_without_the_serve_extra_the_command_says_what_to_install(make_tiny_ckpt, monkeypatch,
                                                                   capsys):
    for module in ("uvicorn", "dfdetect.serve.app"):
        monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    assert main(["serve", f"ckpt={make_tiny_ckpt(image_size=32)}"]) == 2
    assert "needs the serve extra (uvicorn is missing): pip install 'dfdetect[serve]'" in \
        capsys.readouterr().err


def test_a_taken_port_is_a_user_error_naming_it():
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}"):
            bind("127.0.0.1", port)
    finally:
        taken.close()
    free = bind("127.0.0.1", 0)
    assert address(free) == f"http://127.0.0.1:{free.getsockname()[1]}"
    free.close()


def test_two_worker_processes_serve_and_stop_on_ctrl_c(make_tiny_ckpt, media, tmp_path):
    """workers=2: the socket is bound and listening before the workers start (no refused
    connection), each worker loads the model and scores; Ctrl+C stops all with status 0."""
    import httpx

    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(repo / "src")}
    proc = subprocess.Popen([sys.executable, "-m", "dfdetect.cli.main", "serve", "port=0",
                             f"ckpt={make_tiny_ckpt(image_size=32)}", "device=cpu", "workers=2",
                             f"tmp_dir={tmp_path}"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        url = next(m[1] for line in proc.stdout
                   if (m := re.search(r" at (http://127\.0\.0\.1:\d+)/ ", line)))
        with open(media["face.jpg"], "rb") as f:
            r = httpx.post(f"{url}/v1/score", files={"file": ("face.jpg", f)}, timeout=120)
        assert r.status_code == 200 and r.json()["modality"] == "image"
    finally:
        proc.send_signal(signal.SIGINT)
        out = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0, out
    assert list(tmp_path.iterdir()) == []
