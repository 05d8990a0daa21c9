"""Still images -> the face, its landmarks and (optionally) a face crop, per manifest row.

What ``prepare`` does to image rows: detect faces with the video detectors (reduced resolution,
fallback detector), keep the largest, run the dense landmarker (``landmarks=mediapipe``) around
it, and store in the row's extra columns what video crops store: ``detector``, ``score``, the box
``box_x0..box_y1``, five landmarks ``lm1_x..lm5_y`` and the dense polygons ``face_hull`` and
``part_*`` (:mod:`dfdetect.preprocess.landmarks`). The mesh looks first, on the whole image:
when it finds the face, it gives the box and the five points too (``detector`` column
``mediapipe``, no score); the detectors only look where it finds none (see :meth:`ImageWorker.find`).

``crop=false`` (the default) keeps each image whole, coordinates in its own pixels: ``predict``
scores images whole, so training sees what predict will see. ``crop=true`` cuts the face out with
the video geometry (square, ``margin``, ``image_size``, content-hashed JPEG under
``crops/images/``), coordinates in the crop's pixels: for photos where the face is a small part;
score such images through a manifest prepared the same way (``evaluate``), not ``predict`` on the
raw files.

Resumable like the video run: one done marker per image (``done/<id>.json``, with the settings'
fingerprint) so a re-run skips finished images; ``failures.csv`` gets a line per image with no
face or that cannot be read. Without a crop, such an image stays in the manifest (without
landmarks; SBI blends an ellipse there); with ``crop=true`` it is left out.

Example::

    run = prepare_images(manifest, "out/", ImageSettings(crop=False), echo=print)
    run.manifest  # image rows with face columns
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from dfdetect.data.manifest import (HULL_COLUMN, LANDMARK_COLUMNS, PART_COLUMNS, Manifest,
                                    Sample)
from dfdetect.io import atomic_write_text
from dfdetect.preprocess import PrepareError
from dfdetect.preprocess.crops import cut, square_box, to_crop_coords, write_jpeg
from dfdetect.preprocess.faces import Face, build_detector, detect_frames
from dfdetect.preprocess.landmarks import (build_landmarker, five_points, mesh_box,
                                           mesh_columns)
from dfdetect.preprocess.run import marker_path, pending, write_failures

log = logging.getLogger(__name__)

BOX_COLUMNS = ("box_x0", "box_y0", "box_x1", "box_y1")
#: every column this step writes (the rest of a row comes from the manifest being prepared)
FACE_COLUMNS = frozenset({"detector", "score", *BOX_COLUMNS, *LANDMARK_COLUMNS, HULL_COLUMN,
                          *PART_COLUMNS, "source_path", "crop_x0", "crop_y0", "crop_size"})


@dataclass
class ImageSettings:
    """Everything that decides an image's face columns (its fingerprint marks done images)."""

    detector: str = "mtcnn"
    fallback_detector: str = "haar"
    landmarks: str = "mediapipe"
    detect_size: int = 640
    min_face_size: int = 40
    crop: bool = False
    margin: float = 0.2
    image_size: int = 224
    jpeg_quality: int = 95
    device: str = "cpu"

    def fingerprint(self) -> str:
        d = asdict(self)
        d.pop("device")
        if not self.crop:  # crop geometry does not change an uncropped row
            for k in ("margin", "image_size", "jpeg_quality"):
                d.pop(k)
        return "img-" + hashlib.sha1(json.dumps(d, sort_keys=True).encode()).hexdigest()[:12]


def _fmt(v: float) -> str:
    return f"{v:.1f}"


class ImageWorker:
    """Holds the detectors and the landmarker (built once) and turns an image into its row."""

    def __init__(self, s: ImageSettings) -> None:
        self.s = s
        self.landmarker = (build_landmarker(s.landmarks) if s.landmarks not in ("", "none")
                           else None)
        self._detectors: tuple | None = None  # built when the mesh first finds no face

    def detectors(self) -> tuple:
        """(detector, fallback or None), built on first use: with the mesh finding most faces,
        a face dataset may never need them (MTCNN alone costs seconds to import)."""
        if self._detectors is None:
            s, fb = self.s, self.s.fallback_detector
            opts = {"device": s.device, "min_face_size": s.min_face_size}
            self._detectors = (build_detector(s.detector, **opts),
                               build_detector(fb, **opts) if fb and fb not in ("none", s.detector)
                               else None)
        return self._detectors

    def names(self) -> str:
        names = [self.s.detector, self.s.fallback_detector,
                 self.landmarker.name if self.landmarker else ""]
        return ", ".join(dict.fromkeys(n for n in names if n and n != "none"))

    def process(self, sample: dict, path: str, out_dir: str) -> dict:
        """The image's row (``status`` ok) or a failure (``stage``, ``reason``; ``rows`` holds
        the unchanged row when it is kept). Never raises for one bad image."""
        base = {"id": sample["id"], "path": str(path), "settings": self.s.fingerprint()}
        keep = [] if self.s.crop else [{**sample, "path": str(path)}]
        try:
            return {**base, "status": "ok", "rows": [self._row(sample, path, Path(out_dir))]}
        except PrepareError as e:
            return {**base, "status": "failed", "stage": e.stage, "reason": str(e), "rows": keep}
        except Exception as e:  # noqa: BLE001 - one odd file must not end the run
            log.warning("unexpected error on %s: %s: %s", path, type(e).__name__, e,
                        exc_info=log.isEnabledFor(logging.DEBUG))
            return {**base, "status": "failed", "stage": "error", "rows": keep,
                    "reason": f"{path}: unexpected {type(e).__name__}: {e}"}

    def find(self, rgb: np.ndarray, path: str) -> tuple[Face, np.ndarray | None]:
        """The face and its mesh (image pixels); PrepareError when there is none.

        The mesh runs first, on the whole image (its own short-range detector, ~25 ms): it finds
        faces that fill much of the picture, as in face datasets, where MTCNN's image pyramid
        costs ~1 s a picture. Where it finds nothing (a small face in a large photo), the
        detectors look and the mesh runs again around the largest face they found."""
        mesh = self.landmarker(rgb) if self.landmarker else None
        if mesh is not None:
            return Face(mesh_box(mesh), float("nan"), five_points(mesh), self.landmarker.name), mesh
        if min(rgb.shape[:2]) < self.s.min_face_size:  # (MTCNN fails on tiny inputs)
            raise PrepareError(f"{path}: no face found ({self.names()}: the image is smaller "
                               f"than min_face_size={self.s.min_face_size})", "detect")
        detector, fallback = self.detectors()
        faces = detect_frames(detector, [rgb], self.s.detect_size, fallback)[0]
        face = max(faces, key=lambda f: f.area, default=None)
        if face is not None and self.landmarker:
            mesh = self.landmarker(rgb, face.box)
        if face is None:
            why = "kept whole without landmarks" if not self.s.crop else "left out"
            raise PrepareError(f"{path}: no face found ({self.names()}); {why}", "detect")
        if face.landmarks is None and mesh is not None:
            face.landmarks = five_points(mesh)
        return face, mesh

    def _row(self, sample: dict, path: str, out_dir: Path) -> dict:
        from dfdetect.data.image import DecodeError, load_image

        try:
            rgb = load_image(path)
        except DecodeError as e:
            raise PrepareError(str(e), "read") from None
        face, mesh = self.find(rgb, path)
        points = {"box": np.asarray(face.box, float).reshape(2, 2), "lms": face.landmarks,
                  "mesh": mesh}
        extra = {**sample.get("extra", {}), "detector": face.detector,
                 "score": "" if np.isnan(face.score) else f"{face.score:.4f}"}
        row = {**sample, "path": str(path)}
        if self.s.crop:
            h, w = rgb.shape[:2]
            sq = square_box(face.box, self.s.margin, w, h)
            name = write_jpeg(cut(rgb, sq, self.s.image_size), out_dir / "crops" / "images",
                              self.s.jpeg_quality)
            points = {k: None if v is None else to_crop_coords(v, sq, self.s.image_size)
                      for k, v in points.items()}
            row["path"] = (Path("crops") / "images" / name).as_posix()
            extra.update({"source_path": str(path), "crop_x0": str(sq[0]),
                          "crop_y0": str(sq[1]), "crop_size": str(sq[2])})
        extra.update(zip(BOX_COLUMNS, map(_fmt, points["box"].ravel())))
        lms = points["lms"]
        extra.update({c: "" if lms is None else _fmt(v) for c, v in
                      zip(LANDMARK_COLUMNS, (np.full(10, np.nan) if lms is None
                                             else np.asarray(lms).ravel()))})
        if self.landmarker is not None:
            extra.update(mesh_columns(points["mesh"]))
        return {**row, "extra": extra}


@dataclass
class ImageRun:
    """Outcome of an image face run (what the summary prints)."""

    manifest: Manifest
    results: list[dict]
    new: int
    seconds: float
    failures_path: Path
    reasons: Counter = field(default_factory=Counter)


def prepare_images(images: Manifest, out_dir, settings: ImageSettings, *,
                   retry_failed: bool = False, echo=print) -> ImageRun:
    """Face columns (and crops) for every row of ``images``; see the module doc."""
    start = time.perf_counter()
    out = Path(out_dir)
    todo, done = pending(images.samples, out, settings, retry_failed)
    echo(f"Finding faces in {len(images)} images: {len(done)} already done, {len(todo)} to do")
    if todo:
        worker = ImageWorker(settings)
        step = max(1, len(todo) // 10)
        for n, s in enumerate(todo, 1):
            result = worker.process(asdict(s), str(images.resolve(s).resolve()), str(out))
            atomic_write_text(marker_path(out, s.id), json.dumps(result))
            done[s.id] = result
            if n % step == 0 or n == len(todo):
                echo(f"  [{n}/{len(todo)}] {s.id}: " + ("face found" if result["status"] == "ok"
                                                        else result["reason"]))
    results = [done[s.id] for s in images.samples if s.id in done]
    rows = [_current(s, r, settings.crop, str(images.resolve(s).resolve()))
            for s in images.samples if s.id in done for r in done[s.id].get("rows", [])]
    failed = [r for r in results if r["status"] != "ok"]
    failures = out / "failures.csv"
    write_failures(failures, failed, {str(images.resolve(s).resolve()) for s in images.samples})
    return ImageRun(replace(images, samples=rows), results, len(todo),
                    time.perf_counter() - start, failures, Counter(r["stage"] for r in failed))


def _current(sample: Sample, row: dict, crop: bool, path: str) -> Sample:
    """This run's row (split, label, group, extra columns as listed now) with the face columns
    and crop path of a done marker: a re-split with overwrite=true must not bring back the
    marker's old split."""
    face = {k: v for k, v in row["extra"].items() if k in FACE_COLUMNS}
    return replace(sample, path=row["path"] if crop else path, extra={**sample.extra, **face})


def summary(run: ImageRun, crop: bool) -> str:
    """Closing lines: faces found, which landmarks, failures."""
    ok = [r for r in run.results if r["status"] == "ok"]
    rows = [r for res in ok for r in res["rows"]]
    dense = sum(bool(r["extra"].get("face_hull")) for r in rows)
    by_mesh = sum(r["extra"].get("score") == "" for r in rows)  # mediapipe's own detector
    lost = len(run.results) - len(ok)
    lines = [f"Faces found in {len(ok)}/{len(run.results)} images in {run.seconds:.0f} s "
             f"({run.new} now)" + (f", {by_mesh} by the mesh's own detector" if by_mesh else ""),
             f"  dense face hull on {dense}, five points only on {len(ok) - dense}"]
    if lost:
        fate = "left out" if crop else "kept whole without landmarks"
        lines.append(f"  no face / unreadable: {lost} ({fate}; "
                     + ", ".join(f"{k} {v}" for k, v in run.reasons.most_common())
                     + f"): see {run.failures_path}")
    return "\n".join(lines)
