"""Prepare a whole video dataset: workers, shards, resume, failures and the summary.

Each finished video gets a done marker ``out/done/<video id>.json`` (written atomically) holding
its crop rows or its failure. A re-run reads the markers and skips those videos, so a killed run
resumes where it stopped; a marker made with other settings (frames, margin, size, detector...)
is redone. The manifest and ``failures.csv`` are rebuilt from the markers at the end, so they
always describe exactly the videos of this run.

``shard=K/N`` (K = 0..N-1, e.g. ``$SLURM_ARRAY_TASK_ID/8``) keeps every N-th video (sorted by
id) from the K-th on; every shard computes the same group-aware split before sharding, so ``dfdetect merge`` can join
the shard manifests without a group straddling two splits.
"""
from __future__ import annotations

import csv
import io
import json
import os
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from dfdetect.data.manifest import Manifest, Sample
from dfdetect.failures import HEADER as FAILURE_HEADER
from dfdetect.io import atomic_write_text
from dfdetect.preprocess import PrepareError
from dfdetect.preprocess.video import VideoSettings, VideoWorker, safe_id


@dataclass
class VideoRun:
    """Outcome of a video prepare run (what the summary prints)."""

    manifest: Manifest
    results: list[dict]
    new: int
    seconds: float
    manifest_path: Path
    failures_path: Path
    shard: tuple[int, int] = (0, 1)
    reasons: Counter = field(default_factory=Counter)


def parse_shard(text: str) -> tuple[int, int]:
    """``"K/N"`` -> (K, N) with 0 <= K < N; empty -> (0, 1)."""
    if not text:
        return 0, 1
    try:
        k, n = (int(x) for x in str(text).split("/"))
    except ValueError:
        raise PrepareError(f"shard='{text}' must look like K/N, e.g. shard=0/4", "config") from None
    if n < 1 or not 0 <= k < n:
        raise PrepareError(f"shard='{text}': need 0 <= K < N (K counts from 0, as SLURM array "
                           "ids usually do)", "config")
    return k, n


def shard_videos(videos: list[Sample], shard: tuple[int, int]) -> list[Sample]:
    """Videos of shard K of N: every N-th of the ids in sorted order, starting at K. Every shard
    lists the same dataset, so the shards are disjoint, cover it, and differ by at most one."""
    k, n = shard
    ordered = sorted(videos, key=lambda v: v.id)
    return ordered[k::n]


def marker_path(out_dir: Path, video_id: str) -> Path:
    return out_dir / "done" / f"{safe_id(video_id)}.json"


def _load_marker(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # absent or unreadable: the video is simply done again


def pending(videos: list[Sample], out_dir: Path, settings: VideoSettings,
             retry_failed: bool) -> tuple[list[Sample], dict[str, dict]]:
    done, todo = {}, []
    fp = settings.fingerprint()
    for v in videos:
        m = _load_marker(marker_path(out_dir, v.id))
        if m and m.get("settings") == fp and not (retry_failed and m.get("status") != "ok"):
            done[v.id] = m
        else:
            todo.append(v)
    return todo, done


_WORKER: VideoWorker | None = None


def _init_worker(settings: VideoSettings, threads: int) -> None:
    global _WORKER
    import torch

    torch.set_num_threads(threads)
    _WORKER = VideoWorker(settings)


def _work(sample: dict, path: str, out_dir: str) -> dict:
    assert _WORKER is not None
    return _WORKER.process(sample, path, out_dir)


def _sample_dict(s: Sample) -> dict:
    return asdict(s)  # extra columns (e.g. a labels CSV's generator) carry over to the crops


def _run_all(todo: list[Sample], root: Path, out_dir: Path, settings: VideoSettings,
             workers: int, on_result: Callable[[dict], None]) -> None:
    """Process videos in this process (workers <= 1) or in a spawn pool of ``workers``."""
    jobs = [(_sample_dict(v), str(_abs(root, v.path)), str(out_dir)) for v in todo]
    if workers <= 1 or len(jobs) <= 1:
        worker = VideoWorker(settings)
        for job in jobs:
            on_result(worker.process(*job))
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    threads = max(1, (os.cpu_count() or 1) // workers)
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"),
                             initializer=_init_worker, initargs=(settings, threads)) as pool:
        futures = [pool.submit(_work, *job) for job in jobs]
        for fut in as_completed(futures):
            on_result(fut.result())


def _abs(root: Path, path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() else root / p


def prepare_videos(videos: Manifest, out_dir: str | os.PathLike, settings: VideoSettings, *,
                   workers: int = 0, shard: str = "", retry_failed: bool = False,
                   manifest_name: str = "manifest.csv", echo=print) -> VideoRun:
    """Crop every video of ``videos`` (rows already split) into ``out_dir``; see module doc."""
    from dfdetect.data.manifest import write_manifest

    start = time.perf_counter()
    out = Path(out_dir)
    k, n = parse_shard(shard)
    mine = shard_videos(videos.samples, (k, n))
    todo, done = pending(mine, out, settings, retry_failed)
    echo(f"Preparing {len(mine)} videos" + (f" (shard {k}/{n} of {len(videos)})" if n > 1 else "")
         + f": {len(done)} already done, {len(todo)} to do, {max(1, workers)} process(es)")
    step = max(1, len(todo) // 20)
    count = [0]

    def on_result(result: dict) -> None:
        atomic_write_text(marker_path(out, result["id"]), json.dumps(result))
        done[result["id"]] = result
        count[0] += 1
        if count[0] % step == 0 or count[0] == len(todo):
            echo(f"  [{count[0]}/{len(todo)}] {result['id']}: " + (
                f"{len(result['rows'])} crops" if result["status"] == "ok"
                else f"failed at {result['stage']}: {result['reason']}"))

    _run_all(todo, videos.root, out, settings, workers, on_result)
    results = [done[v.id] for v in mine if v.id in done]
    stamp = settings.crop_columns()  # every marker used was made with these settings
    rows = [Sample(**{**r, "extra": {**r["extra"], **stamp}}) for res in results
            if res["status"] == "ok" for r in res["rows"]]
    crops = Manifest(rows, out.resolve(), name=out.name)
    suffix = f"-{k}-of-{n}" if n > 1 else ""
    manifest_path = (out / "shards" / f"manifest{suffix}.csv") if n > 1 else out / manifest_name
    failures_path = out / (f"shards/failures{suffix}.csv" if n > 1 else "failures.csv")
    write_manifest(crops, manifest_path)
    failed = [r for r in results if r["status"] != "ok"]
    write_failures(failures_path, failed, {str(_abs(videos.root, v.path)) for v in mine})
    run = VideoRun(crops, results, len(todo), time.perf_counter() - start, manifest_path,
                   failures_path, (k, n), Counter(r["stage"] for r in failed))
    if mine and len(failed) == len(results):
        raise PrepareError(f"every one of the {len(results)} videos failed; reasons in "
                           f"{failures_path} (first: {failed[0]['reason']})", "prepare")
    return run


def write_failures(path: Path, failed: list[dict], videos: set[str]) -> None:
    """The run's failure lines, after the lines other steps (audio) wrote about other files."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(FAILURE_HEADER)
    if path.is_file():
        with path.open(newline="", encoding="utf-8", errors="surrogateescape") as f:
            for row in csv.DictReader(f):
                if row.get("path") not in videos:
                    w.writerow([row.get(c, "") for c in FAILURE_HEADER])
    for r in failed:
        w.writerow((r["path"], r["stage"], r["reason"]))
    atomic_write_text(path, buf.getvalue())


def summary(run: VideoRun, videos: Manifest, out_dir: Path) -> str:
    """The closing lines: counts, faces found, splits, crops per class, failures, locations."""
    total = len(run.results)
    ok = [r for r in run.results if r["status"] == "ok"]
    pct = 100.0 * len(ok) / total if total else 0.0
    split_of = {v.id: v.split or "(none)" for v in videos.samples}
    per_split = Counter(split_of.get(r["id"], "(none)") for r in ok)
    crops = Counter((s.split or "(none)", s.label) for s in run.manifest.samples)
    rate = 60.0 * run.new / run.seconds if run.seconds > 0 and run.new else 0.0
    lines = [
        f"Processed {total}/{total} videos ({run.new} now, {total - run.new} already done) in "
        f"{run.seconds:.0f} s" + (f" ({rate:.1f} videos/min)" if rate else ""),
        f"  faces found in {len(ok)} ({pct:.1f} %)",
        "  videos per split: " + " / ".join(f"{sp} {c}" for sp, c in sorted(per_split.items())),
        "  crops per split and class: " + ", ".join(
            f"{sp} {lab} {c}" for (sp, lab), c in sorted(crops.items())),
        f"  failures: {total - len(ok)}" + ("" if not run.reasons else " (" + ", ".join(
            f"{stage} {c}" for stage, c in run.reasons.most_common()) + ")"),
        *[f"    {r['stage']}: {r['reason']}"
          for r in run.results if r["status"] != "ok"][:5],
        f"  manifest : {run.manifest_path}",
        f"  crops    : {out_dir / 'crops'}",
        f"  failures : {run.failures_path}",
    ]
    if run.shard[1] > 1:
        lines.append(f"  shard {run.shard[0]}/{run.shard[1]} done; when every shard has finished: "
                     f"dfdetect merge root={out_dir}")
    return "\n".join(lines)
