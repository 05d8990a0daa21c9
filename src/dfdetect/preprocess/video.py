"""One video -> face crops and their manifest rows (what a prepare worker does per video).

Steps: read the packet index, pick the frames, decode them a batch at a time, detect faces at
reduced resolution (fallback detector on frames where the first finds none), write every
candidate crop, link faces into tracks, keep the main track (or all), delete the other crops.
Only a batch of frames is in memory at once, so memory does not grow with the video's length.

The result is a plain dict (JSON-able: it becomes the video's done marker): ``status`` ``ok``
with ``rows``, or ``failed`` with ``stage`` and ``reason``.

Example::

    worker = VideoWorker(VideoSettings(frames_per_video=8))
    result = worker.process({"id": "real/a", "label": "real", ...}, "/data/a.mp4", "out/")
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from dfdetect.data.manifest import LANDMARK_COLUMNS
from dfdetect.preprocess import PrepareError
from dfdetect.preprocess.crops import cut, square_box, to_crop_coords, write_jpeg
from dfdetect.preprocess.faces import Face, build_detector, detect_frames, link_tracks, main_track
from dfdetect.preprocess.frames import plan_reads, probe, read_frames, sample_indices

log = logging.getLogger(__name__)

#: frames decoded and detected together (bounds memory; MTCNN is faster in batches)
BATCH = 8
#: crop rows record prepare's crop settings here (JSON of CROP_KEYS): train copies them into the
#: checkpoint's ``preprocessing["crop"]`` and predict crops raw videos with them
CROP_COLUMN = "crop_settings"
CROP_KEYS = ("frames_per_video", "frame_step", "detector", "fallback_detector", "detect_size",
             "min_face_size", "margin", "image_size")


@dataclass
class VideoSettings:
    """Everything that decides the crops of a video (its fingerprint marks done videos)."""

    frames_per_video: int = 32
    frame_step: int = 0
    detector: str = "mtcnn"
    fallback_detector: str = "haar"
    detect_size: int = 640
    min_face_size: int = 40
    margin: float = 0.2
    image_size: int = 224
    jpeg_quality: int = 95
    keep_all_faces: bool = False
    device: str = "cpu"

    def crop_columns(self) -> dict[str, str]:
        """``{CROP_COLUMN: JSON of the crop-deciding settings}`` for every crop row."""
        record = {k: getattr(self, k) for k in CROP_KEYS}
        return {CROP_COLUMN: json.dumps(record, sort_keys=True, separators=(",", ":"))}

    def fingerprint(self) -> str:
        """Short hash of the settings that change the output (not the device)."""
        d = asdict(self)
        d.pop("device")
        return hashlib.sha1(json.dumps(d, sort_keys=True).encode()).hexdigest()[:12]


def with_crop_settings(preprocessing: dict, samples, echo=print) -> dict:
    """``preprocessing`` plus ``crop``: the prepare settings the crop rows of ``samples`` record
    (the most common when they differ), so predict crops raw videos as prepare did. Unchanged
    for data without crop rows."""
    from collections import Counter

    kinds = Counter(s.extra.get(CROP_COLUMN, "") for s in samples if s.extra.get("video_id"))
    recorded = Counter({k: n for k, n in kinds.items() if k})
    if not recorded:
        if kinds:
            echo("The face crops record no prepare settings (prepared by an older dfdetect; run "
                 "the same prepare again to add them, done videos are skipped): predict will "
                 "crop videos with its defaults")
        return preprocessing
    chosen, n = recorded.most_common(1)[0]
    if len(kinds) > 1:
        echo(f"The face crops were made with {len(kinds)} different prepare settings; the "
             f"checkpoint records those of {n}/{sum(kinds.values())} crops: {chosen}")
    return {**preprocessing, "crop": json.loads(chosen)}


def safe_id(video_id: str) -> str:
    """A video id as a relative folder path: ``/`` kept, other odd characters -> ``_``."""
    parts = [re.sub(r"[^A-Za-z0-9._-]", "_", p) for p in str(video_id).split("/")]
    parts = [p for p in parts if p and p not in (".", "..")]
    return "/".join(parts) or "_"


def build_detectors(settings: VideoSettings) -> tuple:
    """(detector, fallback or None) as the settings name them."""
    opts = {"device": settings.device, "min_face_size": settings.min_face_size}
    fb = settings.fallback_detector
    return (build_detector(settings.detector, **opts),
            build_detector(fb, **opts) if fb and fb not in ("none", settings.detector) else None)


def detect_batch(frames: list, detector, fallback, detect_size: int):
    """Yield (frame, faces) for a batch of frames; frames whose size differs from the others
    (a resolution change mid-file) are detected one at a time."""
    shapes = {f.rgb.shape for f in frames}
    groups = [frames] if len(shapes) == 1 else [[f] for f in frames]
    for group in groups:
        found = detect_frames(detector, [f.rgb for f in group], detect_size, fallback)
        yield from zip(group, found)


class VideoWorker:
    """Holds the detectors (built once per process) and turns videos into crops."""

    def __init__(self, settings: VideoSettings) -> None:
        self.s = settings
        self.detector, self.fallback = build_detectors(settings)

    def process(self, sample: dict, path: str, out_dir: str) -> dict:
        """Crops of one video; failures come back as data, never as exceptions."""
        base = {"id": sample["id"], "path": str(path), "settings": self.s.fingerprint()}
        crops_rel = Path("crops") / safe_id(sample["id"])
        folder = Path(out_dir) / crops_rel
        try:
            return {**base, "status": "ok", **self._crops(sample, path, folder, crops_rel)}
        except PrepareError as e:
            shutil.rmtree(folder, ignore_errors=True)
            return {**base, "status": "failed", "stage": e.stage, "reason": str(e)}
        except Exception as e:  # noqa: BLE001 - one odd file must not end a day-long run
            log.warning("unexpected error on %s: %s: %s", path, type(e).__name__, e,
                        exc_info=log.isEnabledFor(logging.DEBUG))
            shutil.rmtree(folder, ignore_errors=True)
            return {**base, "status": "failed", "stage": "error",
                    "reason": f"{path}: unexpected {type(e).__name__}: {e}"}

    def _crops(self, sample: dict, path: str, folder: Path, crops_rel: Path) -> dict:
        info = probe(path)
        wanted = sample_indices(info.n_frames, self.s.frames_per_video, self.s.frame_step)
        seeks = sum(plan_reads(info, wanted))
        shutil.rmtree(folder, ignore_errors=True)  # leftovers of an interrupted run
        folder.mkdir(parents=True, exist_ok=True)
        per_frame: list[list[Face]] = []
        meta: list[tuple[int, float]] = []
        candidates: list[tuple[int, Face, tuple[int, int, int], str]] = []
        batch: list = []
        for frame in read_frames(info, wanted):
            batch.append(frame)
            if len(batch) == BATCH:
                self._detect_batch(batch, folder, per_frame, meta, candidates)
                batch = []
        self._detect_batch(batch, folder, per_frame, meta, candidates)
        link_tracks(per_frame)
        main = main_track(per_frame)
        keep = [c for c in candidates if self.s.keep_all_faces or c[1].track == main]
        if not keep:
            raise PrepareError(f"{path}: no face found in {len(per_frame)} sampled frames "
                               f"(detectors: {self._names()})", "detect")
        kept_names = {c[3] for c in keep}
        for c in candidates:
            if c[3] not in kept_names:
                (folder / c[3]).unlink(missing_ok=True)
        rows = [self._row(sample, meta[i], face, sq, crops_rel / name)
                for i, face, sq, name in keep]
        return {"n_frames": info.n_frames, "sampled": len(per_frame),
                "with_face": len({c[0] for c in keep}), "seeks": seeks,
                "keyframe_spacing": round(info.keyframe_spacing(), 1), "rows": rows}

    def _names(self) -> str:
        return ", ".join(d.name for d in (self.detector, self.fallback) if d is not None)

    def _detect_batch(self, batch, folder, per_frame, meta, candidates) -> None:
        if not batch:
            return
        for frame, faces in detect_batch(batch, self.detector, self.fallback,
                                         self.s.detect_size):
            h, w = frame.rgb.shape[:2]
            i = len(per_frame)
            per_frame.append(faces)
            meta.append((frame.index, frame.time))
            for face in faces:
                sq = square_box(face.box, self.s.margin, w, h)
                crop = cut(frame.rgb, sq, self.s.image_size)
                candidates.append((i, face, sq, write_jpeg(crop, folder, self.s.jpeg_quality)))

    def _row(self, sample: dict, meta: tuple[int, float], face: Face,
             sq: tuple[int, int, int], rel: Path) -> dict:
        index, time = meta
        size = self.s.image_size
        suffix = f"_face{face.track}" if self.s.keep_all_faces else ""
        extra = {**sample.get("extra", {}),  # the video's own extra columns first
                 "video_id": sample["id"], "video_path": sample["path"], "frame": str(index),
                 "time": f"{time:.3f}", "face": str(face.track), "detector": face.detector,
                 "score": f"{face.score:.4f}", "crop_x0": str(sq[0]), "crop_y0": str(sq[1]),
                 "crop_size": str(sq[2])}
        box = to_crop_coords(np.asarray(face.box).reshape(2, 2), sq, size).ravel()
        extra.update({k: f"{v:.1f}" for k, v in zip(("box_x0", "box_y0", "box_x1", "box_y1"),
                                                     box)})
        lms = (to_crop_coords(face.landmarks, sq, size) if face.landmarks is not None
               else np.full((5, 2), np.nan))
        extra.update({c: "" if np.isnan(v) else f"{v:.1f}"
                      for c, v in zip(LANDMARK_COLUMNS, lms.ravel())})
        return {"id": f"{sample['id']}/{index:06d}{suffix}", "path": rel.as_posix(),
                "label": sample["label"], "split": sample.get("split", ""),
                "group": sample.get("group", ""), "source": sample.get("source", ""),
                "method": sample.get("method", ""), "modality": "frame", "extra": extra}
