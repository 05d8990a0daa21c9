"""In-memory face crops of one video, for ``predict``: the same steps as ``prepare`` without
files or manifest rows.

Sampled frames -> detection at reduced resolution (fallback detector where the first finds
none) -> tracks -> the main face track -> square crops with the checkpoint's input size.

Example::

    crops = FaceCropper(VideoSettings(frames_per_video=16, image_size=224))("clip.mp4")
    # [(frame_index, (224, 224, 3) uint8 RGB), ...]; [] when no face was found
"""
from __future__ import annotations

import numpy as np

from dfdetect.preprocess.crops import cut, square_box
from dfdetect.preprocess.faces import link_tracks, main_track
from dfdetect.preprocess.frames import probe, read_frames, sample_indices
from dfdetect.preprocess.video import BATCH, VideoSettings, build_detectors, detect_batch


class Crops(list):
    """The crops of one video; ``note`` says why they come from part of it (truncation)."""

    note: str = ""


class FaceCropper:
    """``path -> [(frame_index, crop)]`` of the main face; raises PrepareError on bad videos."""

    def __init__(self, settings: VideoSettings) -> None:
        self.s = settings
        self.detector, self.fallback = build_detectors(settings)

    def __call__(self, path: str) -> list[tuple[int, np.ndarray]]:
        info = probe(path)
        wanted = sample_indices(info.n_frames, self.s.frames_per_video, self.s.frame_step)
        per_frame, found = [], []  # faces per sampled frame; (slot, face, crop) candidates
        batch: list = []
        for frame in read_frames(info, wanted):
            batch.append(frame)
            if len(batch) == BATCH:
                self._detect(batch, per_frame, found)
                batch = []
        self._detect(batch, per_frame, found)
        link_tracks(per_frame)
        main = main_track(per_frame)
        keep = Crops(sorted(((index, crop) for index, face, crop in found
                             if self.s.keep_all_faces or face.track == main), key=lambda x: x[0]))
        keep.note = info.truncation()
        return keep

    def _detect(self, batch, per_frame: list, found: list) -> None:
        for frame, faces in detect_batch(batch, self.detector, self.fallback, self.s.detect_size):
            h, w = frame.rgb.shape[:2]
            per_frame.append(faces)
            for face in faces:
                sq = square_box(face.box, self.s.margin, w, h)
                found.append((frame.index, face, cut(frame.rgb, sq, self.s.image_size)))
