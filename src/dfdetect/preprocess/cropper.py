"""In-memory face crops of one video, for ``predict``: the same steps as ``prepare`` without
files or manifest rows.

Sampled frames -> detection at reduced resolution (fallback detector where the first finds
none) -> tracks -> the main face track -> square crops with the checkpoint's input size.

Example::

    crops = FaceCropper(VideoSettings(frames_per_video=16, image_size=224))("clip.mp4")
    # [(frame_index, (224, 224, 3) uint8 RGB), ...]; [] when no face was found
    crops.details  # [{"time": 0.0, "box": [x0, y0, x1, y1]}, ...]: one per crop, same order
"""
from __future__ import annotations

import numpy as np

from dfdetect.preprocess.crops import cut, square_box
from dfdetect.preprocess.faces import link_tracks, main_track
from dfdetect.preprocess.frames import probe, read_frames, sample_indices
from dfdetect.preprocess.video import BATCH, VideoSettings, build_detectors, detect_batch


class Crops(list):
    """The crops of one video; ``note`` says why they come from part of it (truncation);
    ``details`` holds, per crop, its frame's time (seconds) and the detected face box (pixels of
    the upright frame), for timelines (``dfdetect serve``, predict's JSON lines)."""

    note: str = ""
    details: list = []


class FaceCropper:
    """``path -> [(frame_index, crop)]`` of the main face; raises PrepareError on bad videos."""

    def __init__(self, settings: VideoSettings) -> None:
        self.s = settings
        self.detector, self.fallback = build_detectors(settings)

    def __call__(self, path: str) -> list[tuple[int, np.ndarray]]:
        info = probe(path)
        wanted = sample_indices(info.n_frames, self.s.frames_per_video, self.s.frame_step)
        per_frame, found = [], []  # faces per sampled frame; (index, face, crop, time) candidates
        batch: list = []
        for frame in read_frames(info, wanted):
            batch.append(frame)
            if len(batch) == BATCH:
                self._detect(batch, per_frame, found)
                batch = []
        self._detect(batch, per_frame, found)
        link_tracks(per_frame)
        main = main_track(per_frame)
        kept = sorted((c for c in found if self.s.keep_all_faces or c[1].track == main),
                      key=lambda c: c[0])
        keep = Crops((index, crop) for index, _, crop, _ in kept)
        keep.details = [{"time": round(float(t), 3), "box": [int(round(float(v))) for v in f.box]}
                        for _, f, _, t in kept]
        keep.note = info.truncation()
        return keep

    def _detect(self, batch, per_frame: list, found: list) -> None:
        for frame, faces in detect_batch(batch, self.detector, self.fallback, self.s.detect_size):
            h, w = frame.rgb.shape[:2]
            per_frame.append(faces)
            for face in faces:
                sq = square_box(face.box, self.s.margin, w, h)
                crop = cut(frame.rgb, sq, self.s.image_size)
                found.append((frame.index, face, crop, frame.time))
