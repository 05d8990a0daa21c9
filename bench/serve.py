"""`dfdetect serve` under load, next to `predict` on the same files, measured in the same run.

Starts `dfdetect serve` as its own process on a free loopback port (127.0.0.1 only), then:

1. 8 and 32 concurrent clients (threads, one HTTP connection each) send uploads until
   ``--requests`` are done or ``--max-seconds`` pass: requests/s, p50 / p95 latency, failed or
   lost requests (any answer but 200, or no answer), the server's peak RSS;
2. 500 more requests at 8 clients with the server's RSS read after each: mean RSS of the first
   and of the last 100 (memory flat = no leak per request);
3. `predict` on the same files in this process: files/s.

The queue timeout is generous so that every request is "under the limit" (queued, not refused):
all must succeed. The model is untrained (speed does not depend on the weights).
Run: ``python bench/serve.py [--model timm:resnet18 --size 64 --files 32 --video]``.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def _checkpoint(folder: Path, model_name: str, size: int) -> Path:
    from predict import _checkpoint as untrained  # bench/predict.py: the same untrained model

    return untrained(folder, model_name, size)


def _files(folder: Path, n: int, video: bool) -> list[Path]:
    """``n`` face photos (JPEG, 160 x 160, shifted and scaled) and optionally one short clip."""
    import cv2
    from PIL import Image

    from dfdetect.demo.clips import astronaut_face, moving_face_frames, write_video

    folder.mkdir()
    face = astronaut_face(200)
    out = []
    for i in range(n):
        s = 140 + (i * 7) % 60
        img = cv2.resize(face, (s, s))[(s - 160) // 2 if s > 160 else 0:][:160, :160]
        p = folder / f"face_{i:03d}.jpg"
        Image.fromarray(np.ascontiguousarray(img)).save(p, quality=85 + i % 10)
        out.append(p)
    if video:
        out.append(write_video(folder / "clip.mp4",
                               moving_face_frames(face, n=16, size=(192, 160)), gop=8))
    return out


def _rss_kb(pid: int) -> tuple[int, int]:
    """(current, peak) resident memory of a process in kB, from /proc (Linux)."""
    text = Path(f"/proc/{pid}/status").read_text()
    get = lambda key: int(re.search(rf"^{key}:\s+(\d+)", text, re.M)[1])  # noqa: E731
    return get("VmRSS"), get("VmHWM")


def _start_server(ckpt: Path, tmp: Path, concurrent: int):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"),
                                                        os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "dfdetect.cli.main", "serve", f"ckpt={ckpt}", "port=0",
           "host=127.0.0.1", "device=cpu", "frames=8", f"max_concurrent={concurrent}",
           "queue_timeout=300", f"tmp_dir={tmp}"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)
    for line in proc.stdout:
        found = re.search(r" at (http://127\.0\.0\.1:\d+)/ ", line)
        if found:
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
            return proc, found[1]
    raise SystemExit("dfdetect serve did not start")


def _load(url: str, files: list[Path], clients: int, requests: int, max_seconds: float,
          on_done=None) -> dict:
    """``requests`` uploads from ``clients`` threads (round-robin over ``files``)."""
    import httpx

    payloads = [(f.name, f.read_bytes()) for f in files]
    lock = threading.Lock()
    state = {"next": 0, "lat": [], "failed": 0, "lost": 0, "errors": []}
    deadline = time.monotonic() + max_seconds

    def client() -> None:
        with httpx.Client(timeout=600) as http:
            while True:
                with lock:
                    n = state["next"]
                    if n >= requests or time.monotonic() > deadline:
                        return
                    state["next"] += 1
                name, data = payloads[n % len(payloads)]
                start = time.perf_counter()
                try:
                    r = http.post(f"{url}/v1/score", files={"file": (name, data)})
                    ok = r.status_code == 200 and r.json().get("status") in ("ok", "partial")
                except Exception as e:  # noqa: BLE001 - counted as lost
                    ok, r = None, e
                took = time.perf_counter() - start
                with lock:
                    if ok:
                        state["lat"].append(took)
                    elif ok is None:
                        state["lost"] += 1
                        state["errors"].append(repr(r)[:200])
                    else:
                        state["failed"] += 1
                        state["errors"].append(f"{r.status_code}: {r.text[:200]}")
                if on_done is not None:
                    on_done()

    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    lat = sorted(state["lat"])
    sent = state["next"]
    return {"clients": clients, "sent": sent, "ok": len(lat), "failed": state["failed"],
            "lost": state["lost"], "rps": len(lat) / wall, "wall": wall,
            "p50": lat[len(lat) // 2] if lat else float("nan"),
            "p95": lat[min(len(lat) - 1, int(0.95 * len(lat)))] if lat else float("nan"),
            "errors": state["errors"][:3]}


def _predict_rates(ckpt: Path, folder: Path, out: Path,
                   repeat: int = 3) -> tuple[float, float]:
    """Files/s of the `predict` call (loads the model, as the command does) and of its scoring
    step alone (model loaded: ``score_items``, what the server runs per request)."""
    from dfdetect.config.schema import PredictConfig
    from dfdetect.inference.predict import predict, resolve_inputs, score_items
    from dfdetect.inference.scorers import build_scorer

    cfg = PredictConfig(ckpt=str(ckpt), input=str(folder), out=str(out), device="cpu", frames=8,
                        progress=False, overwrite=True)
    predict(cfg, echo=lambda *_: None)  # warm-up (imports, detector weights)
    scorer = build_scorer(cfg.ckpt, device="cpu")
    items = resolve_inputs(cfg)
    whole, step = [], []
    for _ in range(repeat):  # best of `repeat`: the CPU is shared, the best run is the least noisy
        start = time.perf_counter()
        result = predict(cfg, echo=lambda *_: None)
        whole.append((result.scored + result.failed) / (time.perf_counter() - start))
        start = time.perf_counter()
        score_items(items, scorer, cfg, 0.5)
        step.append(len(items) / (time.perf_counter() - start))
    return max(whole), max(step)


def run(args) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ckpt = _checkpoint(tmp, args.model, args.size)
        files = _files(tmp / "files", args.files, args.video)
        uploads = tmp / "uploads"
        proc, url = _start_server(ckpt, uploads, args.concurrent)
        idle_kb = _rss_kb(proc.pid)[0]
        try:
            _load(url, files, 2, 2 * len(files), args.max_seconds)  # warm-up
            levels = [_load(url, files, c, args.requests, args.max_seconds) for c in (8, 32)]
            peak_kb = _rss_kb(proc.pid)[1]
            samples: list[int] = []
            sample = lambda: samples.append(_rss_kb(proc.pid)[0])  # noqa: E731
            flat = _load(url, files, 8, 500, args.max_seconds * 3, on_done=sample)
            peak_kb = max(peak_kb, _rss_kb(proc.pid)[1])
            left = list(uploads.iterdir())
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        predict_fps, scoring_fps = _predict_rates(ckpt, tmp / "files", tmp / "out.csv")
    return {"levels": levels, "flat": flat, "samples": samples, "peak_mb": peak_kb / 1024,
            "idle_mb": idle_kb / 1024, "predict_fps": predict_fps, "scoring_fps": scoring_fps,
            "left": left, "files": len(files)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="timm:resnet18")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--files", type=int, default=32, help="face photos uploaded in turn")
    parser.add_argument("--video", action="store_true", help="add one 16-frame clip")
    parser.add_argument("--requests", type=int, default=200, help="requests per client level")
    parser.add_argument("--concurrent", type=int, default=2, help="server max_concurrent")
    parser.add_argument("--max-seconds", type=float, default=120, help="time bound per level")
    args = parser.parse_args()
    r = run(args)
    print(f"dfdetect serve on 127.0.0.1, {args.model} at {args.size} px (untrained), "
          f"{r['files']} files, max_concurrent={args.concurrent}, CPU threads "
          f"{os.cpu_count()}")
    print(f"{'clients':>7} {'requests':>9} {'ok':>5} {'failed':>6} {'lost':>5} {'req/s':>7} "
          f"{'p50 ms':>7} {'p95 ms':>7}")
    for lv in (*r["levels"], r["flat"]):
        print(f"{lv['clients']:>7} {lv['sent']:>9} {lv['ok']:>5} {lv['failed']:>6} "
              f"{lv['lost']:>5} {lv['rps']:>7.1f} {lv['p50'] * 1e3:>7.0f} {lv['p95'] * 1e3:>7.0f}")
        for e in lv["errors"]:
            print(f"        error: {e}")
    s = r["samples"]
    first, last = statistics.mean(s[:100]) / 1024, statistics.mean(s[-100:]) / 1024
    print(f"server RSS after start {r['idle_mb']:.0f} MB (torch, timm, the model), peak "
          f"{r['peak_mb']:.0f} MB; over {len(s)} requests: first 100 {first:.0f} MB, last 100 "
          f"{last:.0f} MB ({last - first:+.1f} MB)")
    best = max(lv["rps"] for lv in r["levels"])
    print(f"predict on the same files: {r['predict_fps']:.1f} files/s as a command (loads the "
          f"model), {r['scoring_fps']:.1f} files/s scoring step alone; best serve req/s / "
          f"predict scoring = {best / r['scoring_fps']:.2f}")
    print(f"upload folders left behind: {len(r['left'])}")
    bad = sum(lv["failed"] + lv["lost"] for lv in (*r["levels"], r["flat"]))
    if bad or r["left"]:
        raise SystemExit(f"{bad} requests failed or were lost, {len(r['left'])} folders left")


if __name__ == "__main__":
    main()
