"""Benchmark: our video prepare against the naive decode-everything, detect-every-frame baseline.

Runs both, one after the other in this process, on the same clips (default
``../shared/data/talking_heads``, 17 real clips of varied size and fps) and prints videos/min for
each, the ratio, the IoU of our boxes against the baseline's on the frames both looked at, and
the peak resident memory of each phase. The baseline is what DeepfakeBench's preprocessing does:
decode every frame, run the detector on every frame at full resolution, keep the largest face.

    python bench/prepare.py                       # all clips, 32 frames per video
    python bench/prepare.py --limit 4 --frames 16 # a quicker look
"""
from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np


class PeakRSS:
    """Peak resident memory (MB) while the block runs, sampled from /proc every 20 ms."""

    def __enter__(self) -> "PeakRSS":
        self.start = self.peak = _rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _poll(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss_mb())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())


def _rss_mb() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_ours(clips: list[Path], frames: int, out: Path) -> tuple[float, dict]:
    """dfdetect's prepare (in this process); returns seconds and {(clip, frame): box}."""
    from dfdetect.data.manifest import Manifest, Sample
    from dfdetect.preprocess.run import prepare_videos
    from dfdetect.preprocess.video import VideoSettings

    videos = Manifest([Sample(id=c.stem, path=str(c), label="real", modality="video")
                       for c in clips], Path("/"))
    start = time.perf_counter()
    run = prepare_videos(videos, out, VideoSettings(frames_per_video=frames), echo=lambda _: None)
    seconds = time.perf_counter() - start
    boxes = {}
    for s in run.manifest.samples:
        e = s.extra
        x0, y0, side = int(e["crop_x0"]), int(e["crop_y0"]), int(e["crop_size"])
        k = side / 224.0  # crop pixels -> frame pixels
        boxes[(e["video_id"], int(e["frame"]))] = np.array(
            [x0 + float(e["box_x0"]) * k, y0 + float(e["box_y0"]) * k,
             x0 + float(e["box_x1"]) * k, y0 + float(e["box_y1"]) * k])
    return seconds, boxes


def run_baseline(clips: list[Path], sample: dict[str, list[int]] | None) -> tuple[float, dict, int]:
    """Decode every frame, MTCNN on every frame at full resolution, keep the largest face.

    With ``sample`` (clip -> frame indices), every frame is still decoded and converted, but the
    detector runs only on those frames; its mean time per frame then stands for every frame
    (detection is per frame and independent, so the estimate is linear in the frame count).
    Returns seconds (measured or estimated), {(clip, frame): box}, frames decoded.
    """
    import av

    from dfdetect.preprocess.faces import build_detector

    det = build_detector("mtcnn")
    boxes, n, decode_s, detect_s, detected = {}, 0, 0.0, 0.0, 0
    for clip in clips:
        wanted = None if sample is None else set(sample.get(clip.stem, []))
        t = time.perf_counter()
        with av.open(str(clip)) as c:
            for i, frame in enumerate(c.decode(video=0)):
                rgb = frame.to_ndarray(format="rgb24")
                turns = int(round((frame.rotation or 0) / 90.0)) % 4
                rgb = np.ascontiguousarray(np.rot90(rgb, turns)) if turns else rgb
                n += 1
                if wanted is not None and i not in wanted:
                    continue
                d = time.perf_counter()
                faces = det.detect([rgb])[0]
                detect_s += time.perf_counter() - d
                detected += 1
                if faces:
                    boxes[(clip.stem, i)] = max(faces, key=lambda f: f.area).box
        decode_s += time.perf_counter() - t
    decode_s -= detect_s
    return decode_s + detect_s / max(1, detected) * n, boxes, n


def sampler_memory(clips: list[Path]) -> list[tuple[str, int, float]]:
    """Peak RSS growth while reading *every* frame of the shortest and the longest clip through
    our sampler (no detection): flat memory means the two are about equal."""
    from dfdetect.preprocess.frames import probe, read_frames

    infos = sorted((probe(str(c)) for c in clips), key=lambda i: i.n_frames)
    out = []
    for info in (infos[0], infos[-1]):
        with PeakRSS() as mem:
            for _ in read_frames(info, list(range(info.n_frames))):
                pass
        out.append((Path(info.path).name, info.n_frames, mem.peak - mem.start))
    return out


def _args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    shared = os.environ.get("DFDETECT_SHARED_DATA") or \
        Path(__file__).resolve().parents[1].parent / "shared" / "data"
    ap.add_argument("--videos", type=Path, default=Path(shared) / "talking_heads")
    ap.add_argument("--frames", type=int, default=32, help="frames per video for ours")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N clips")
    ap.add_argument("--baseline-sample", type=int, default=8,
                    help="detect on this many of our frames per clip and extrapolate the "
                         "baseline's detection time to every frame; 0 = run the full baseline "
                         "(over an hour for the 17 clips on 2 busy cores)")
    ap.add_argument("--memory-only", action="store_true",
                    help="only the sampler memory check (seconds instead of minutes)")
    return ap.parse_args()


def _baseline_frames(ours: dict, per_clip: int) -> dict[str, list[int]] | None:
    """The first ``per_clip`` of our frames of each clip (None: every frame)."""
    if not per_clip:
        return None
    sample: dict[str, list[int]] = {}
    for vid, frame in sorted(ours):
        if len(sample.setdefault(vid, [])) < per_clip:
            sample[vid].append(frame)
    return sample


def main() -> None:
    from dfdetect.preprocess.faces import iou

    args = _args()
    clips = sorted(args.videos.glob("*.mp4"))[: args.limit or None]
    if not clips:
        raise SystemExit(f"no .mp4 clips in {args.videos}")
    import facenet_pytorch  # noqa: F401  (imports are not part of either timing)
    import torch

    print(f"{len(clips)} clips from {args.videos}; torch threads {torch.get_num_threads()}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    for name, n, grow in sampler_memory(clips):
        print(f"sampler  : every frame of {name} ({n} frames): peak RSS +{grow:.0f} MB")
    if args.memory_only:
        return
    with tempfile.TemporaryDirectory() as tmp, PeakRSS() as mem_ours:
        ours_s, ours = run_ours(clips, args.frames, Path(tmp))
    with PeakRSS() as mem_base:
        base_s, base, n_frames = run_baseline(clips, _baseline_frames(ours, args.baseline_sample))
    rate_ours, rate_base = 60 * len(clips) / ours_s, 60 * len(clips) / base_s
    print(f"ours     : {ours_s:7.1f} s  {rate_ours:6.2f} videos/min  ({args.frames} frames/video,"
          f" {len(ours)} faces)  peak RSS {mem_ours.peak:.0f} MB"
          f" (+{mem_ours.peak - mem_ours.start:.0f})")
    how = (f"detection timed on {args.baseline_sample} frames/clip, extrapolated"
           if args.baseline_sample else "measured in full")
    print(f"baseline : {base_s:7.1f} s  {rate_base:6.2f} videos/min  ({n_frames} frames decoded,"
          f" detector on every frame at full resolution; {how})"
          f"\n           peak RSS {mem_base.peak:.0f} MB (+{mem_base.peak - mem_base.start:.0f})")
    print(f"ratio    : {rate_ours / rate_base:.1f}x faster")
    ious = [iou(ours[k], base[k]) for k in ours if k in base]
    if ious:
        print(f"IoU of our boxes vs the baseline's on {len(ious)} shared frames: mean "
              f"{np.mean(ious):.3f}, min {np.min(ious):.3f}, share >= 0.5: "
              f"{np.mean(np.array(ious) >= 0.5):.3f}")


if __name__ == "__main__":
    main()
