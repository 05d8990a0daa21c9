"""Video prediction: face crops from sampled frames -> per-frame scores -> one video score.

This module owns the scoring and aggregation, not the media work. Frame sampling, face detection
and cropping belong to :mod:`dfdetect.preprocess` (the video-preparation stage), reached through
one small interface::

    FramesAndCrops = Callable[[str], list[tuple[int, np.ndarray]]]
    # path -> [(frame_index, face crop as (H, W, 3) uint8 RGB), ...]; raises DecodeError when
    # the video cannot be read; an empty list means no face was found in any sampled frame.
    # A result with a ``details`` attribute (one dict per crop: "time" seconds, "box" pixels)
    # adds those keys to each frame of the prediction.

:func:`crop_provider` is the single place that builds that callable from the checkpoint's
preprocessing settings. Crops from several videos are pooled into full batches.

Example::

    scorer = VideoScorer(predictor, frames_and_crops=my_provider, strategy="mean")
    for v in scorer.score(["clip.mp4"]):
        v.score, v.frames        # 0.83, [{"frame": 0, "score": 0.8, "time": 0.0, "box": [...]}]
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from dfdetect.data.media import DecodeError
from dfdetect.metrics.aggregate import aggregate, aggregation

log = logging.getLogger(__name__)
FramesAndCrops = Callable[[str], list[tuple[int, np.ndarray]]]


@dataclass
class VideoPrediction:
    """A video's outcome: the aggregated score and each scored frame."""

    path: str
    score: float | None
    status: str = "ok"  # ok | partial (scored from what survives; why in error) | error
    error: str = ""
    frames: list[dict] = field(default_factory=list)


def crop_provider(preprocessing: dict, num_frames: int = 16, detector: str = "mtcnn",
                  fallback_detector: str = "haar", device: str = "cpu") -> FramesAndCrops:
    """The face-crop stage for ``predict`` on videos, from :mod:`dfdetect.preprocess`.

    Crops are cut as the ``prepare`` that made the training crops cut them: the checkpoint's
    ``preprocessing["crop"]`` (recorded by train from the prepared manifest) gives the margin,
    detectors, detection size, minimum face size and crop size; ``num_frames`` evenly spaced
    frames are scored. A checkpoint without that record uses the defaults below (margin 0.2,
    crops at the model's input size) and says so once. Unreadable videos raise
    :class:`DecodeError` with prepare's reason. The callable's ``settings`` attribute holds the
    :class:`VideoSettings` it crops with.
    """
    from dfdetect.preprocess import PrepareError
    from dfdetect.preprocess.cropper import FaceCropper
    from dfdetect.preprocess.video import CROP_KEYS, VideoSettings

    crop = {k: v for k, v in (preprocessing.get("crop") or {}).items()
            if k in CROP_KEYS and k not in ("frames_per_video", "frame_step")}
    if not crop:
        log.warning("the checkpoint records no prepare crop settings (trained before dfdetect "
                    "recorded them, or not on prepared video crops): videos are cropped with "
                    "margin %s, detectors %s + %s", preprocessing.get("crop_margin", 0.2),
                    detector, fallback_detector)
    base = {"detector": detector, "fallback_detector": fallback_detector,
            "margin": float(preprocessing.get("crop_margin", 0.2)),
            "image_size": int(preprocessing.get("image_size", 224))}
    settings = VideoSettings(frames_per_video=num_frames, device=device, **{**base, **crop})
    cropper = FaceCropper(settings)

    def frames_and_crops(path: str) -> list[tuple[int, np.ndarray]]:
        try:
            return cropper(path)
        except PrepareError as e:
            reason = str(e).split(": ", 1)[-1] if str(e).startswith(str(path)) else str(e)
            raise DecodeError(f"{path}: {reason}") from None
        except Exception as e:  # noqa: BLE001 - a detector failing on an odd frame size...
            text = " ".join(str(e).split())[:200]
            raise DecodeError(f"{path}: cannot crop faces ({type(e).__name__}: {text})") from None

    frames_and_crops.settings = settings  # type: ignore[attr-defined]
    return frames_and_crops


class VideoScorer:
    """Scores videos through any scorer with ``score_arrays`` (Predictor, Ensemble, ONNX)."""

    def __init__(self, scorer, frames_and_crops: FramesAndCrops, strategy: str = "mean",
                 k: int = 3) -> None:
        aggregation(strategy)  # fail now on a typo, not after decoding every video
        self.scorer, self.crops, self.strategy, self.k = scorer, frames_and_crops, strategy, k
        self.batch_size = max(1, int(getattr(scorer, "batch_size", 16)))
        self.notes: dict[str, str] = {}
        self.details: dict[str, list] = {}

    def _read(self, path: str) -> tuple[list[tuple[int, np.ndarray]], str]:
        try:
            got = self.crops(path)
        except DecodeError as e:
            return [], str(e).split(": ", 1)[-1]
        except Exception as e:  # noqa: BLE001 - any provider: one odd video is one error row
            return [], f"cannot read ({type(e).__name__}: {' '.join(str(e).split())[:200]})"
        self.notes[path] = getattr(got, "note", "")  # e.g. "truncated: ..." -> status partial
        crops = list(got)
        details = getattr(got, "details", None)
        if details and len(details) == len(crops):
            self.details[path] = list(details)
        return crops, "" if crops else "no face found in any sampled frame"

    def _finish(self, path: str, crops: list, scores: Sequence[float], error: str) -> VideoPrediction:
        if error:
            log.warning("could not score %s: %s", path, error)
            self.notes.pop(path, None)
            self.details.pop(path, None)
            return VideoPrediction(path, None, "error", error)
        frames = [{"frame": int(i), "score": float(s)} for (i, _), s in zip(crops, scores)]
        for frame, extra in zip(frames, self.details.pop(path, [])):
            frame.update(extra)  # time, face box
        note = self.notes.pop(path, "")
        score = aggregate(scores, self.strategy, self.k)
        if not np.isfinite(score):  # NaN weights or inputs: an error row, never a label
            return VideoPrediction(path, None, "error", f"non-finite score ({score})")
        if note:
            log.warning("scored %s from part of it: %s", path, note)
        return VideoPrediction(path, score, "partial" if note else "ok", note, frames=frames)

    def score(self, paths: Iterable[str], progress=None) -> Iterator[VideoPrediction]:
        """One VideoPrediction per path, in order; crops of several videos share batches."""
        pending: list[tuple[str, list, str]] = []
        n_crops = 0
        for path in map(str, paths):
            crops, error = self._read(path)
            pending.append((path, crops, error))
            n_crops += len(crops)
            if n_crops >= self.batch_size:
                yield from self._flush(pending, progress)
                pending, n_crops = [], 0
        yield from self._flush(pending, progress)

    def _scores(self, pending: list) -> list[tuple[list[float], str]]:
        """Per video: its crops' scores (or an error); a failing pooled batch is retried per
        video so one bad video cannot take its batch-mates down."""
        arrays = [a for _, crops, _ in pending for _, a in crops]
        try:
            scores = self.scorer.score_arrays(arrays) if arrays else []
        except Exception as e:  # noqa: BLE001
            if len(pending) > 1:
                return [self._scores([p])[0] for p in pending]
            return [([], f"scoring failed ({type(e).__name__}: {' '.join(str(e).split())[:200]})")]
        out, at = [], 0
        for _, crops, error in pending:
            out.append((scores[at:at + len(crops)], error))
            at += len(crops)
        return out

    def _flush(self, pending: list, progress) -> Iterator[VideoPrediction]:
        scored = self._scores(pending)
        if progress is not None and pending:  # before yielding: a consumer may stop at the last
            progress(len(pending))
        for (path, crops, error), (scores, failed) in zip(pending, scored):
            yield self._finish(path, crops, scores, error or failed)
