"""Face detectors (a registry) and the choice of the main face track.

Only detectors whose weights ship inside their wheel are registered, because the network is often
unavailable at run time: ``mtcnn`` (facenet-pytorch 2.6.0, 2 MB of weights in the wheel, five
landmarks, batchable, GPU-capable) is the default and ``haar`` (OpenCV's frontal-face cascade,
shipped in opencv-python-headless, box only) the fallback. A factory checks its files before
building anything, so a missing package or weight file stops in well under a second with what to
install, instead of a download attempt that hangs behind a firewall. See ``docs/datasets.md``
for the measurements behind this choice.

Detection runs at a reduced resolution (:func:`detect_frames`): the longer side is scaled down to
``detect_size`` and boxes and landmarks are mapped back to full-frame pixels.

Example::

    det = build_detector("mtcnn", device="cpu")
    faces = detect_frames(det, [rgb], detect_size=640)[0]   # list[Face] for the frame
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence

import numpy as np

from dfdetect.preprocess import PrepareError
from dfdetect.registry import Registry


@dataclass
class Face:
    """One detection in full-frame pixel coordinates."""

    box: np.ndarray                      # (4,) x0, y0, x1, y1
    score: float
    landmarks: np.ndarray | None = None  # (5, 2) eyes, nose, mouth corners (x, y) or None
    detector: str = ""
    track: int = field(default=-1)

    @property
    def area(self) -> float:
        return float(max(0.0, self.box[2] - self.box[0]) * max(0.0, self.box[3] - self.box[1]))


class Detector(Protocol):
    """Finds faces in RGB frames of the same size."""

    name: str

    def detect(self, images: Sequence[np.ndarray]) -> list[list[Face]]: ...


DETECTORS: Registry[Detector] = Registry("face detector")


def build_detector(name: str, **options) -> Detector:
    """Build the detector registered as ``name`` (``mtcnn``, ``haar``)."""
    return DETECTORS.build(name, **options)


def check_detector(name: str) -> None:
    """Verify that ``name`` is registered and its package and weight files are installed,
    without loading anything: a bad choice stops before any video is read."""
    DETECTORS.build(name, check_only=True)


class MTCNNDetector:
    """facenet-pytorch's MTCNN: boxes, scores and five landmarks, a batch of frames at a time."""

    name = "mtcnn"

    def __init__(self, device: str = "cpu", min_face_size: int = 40, **_: object) -> None:
        from facenet_pytorch import MTCNN

        self.model = MTCNN(keep_all=True, device=device, min_face_size=min_face_size,
                           post_process=False)

    def detect(self, images: Sequence[np.ndarray]) -> list[list[Face]]:
        boxes, scores, points = self.model.detect(np.stack(images), landmarks=True)
        out = []
        for b, s, p in zip(boxes, scores, points):
            if b is None:
                out.append([])
                continue
            out.append([Face(np.asarray(b[i], float), float(s[i]),
                             np.asarray(p[i], float).reshape(5, 2), self.name)
                        for i in range(len(b))])
        return out


@DETECTORS.register("mtcnn")
def mtcnn(device: str = "cpu", min_face_size: int = 40, check_only: bool = False,
          **_: object) -> MTCNNDetector | None:
    """MTCNN from facenet-pytorch; its three weight files ship inside the wheel."""
    import importlib.util

    spec = importlib.util.find_spec("facenet_pytorch")
    if spec is None or not spec.submodule_search_locations:
        raise PrepareError("detector=mtcnn needs facenet-pytorch, installed without its "
                           "outdated pins: pip install --no-deps facenet-pytorch==2.6.0 "
                           "(or use detector=haar)", "detector")
    data = os.path.join(list(spec.submodule_search_locations)[0], "data")
    missing = [w for w in ("pnet.pt", "rnet.pt", "onet.pt")
               if not os.path.isfile(os.path.join(data, w))]
    if missing:
        raise PrepareError(f"detector=mtcnn: weight file(s) {', '.join(missing)} missing from "
                           f"{data}; dfdetect never downloads detector weights at run time: "
                           "reinstall facenet-pytorch==2.6.0 or use detector=haar", "detector")
    if check_only:
        return None
    return MTCNNDetector(device=device, min_face_size=min_face_size)


class HaarDetector:
    """OpenCV's Viola-Jones frontal-face cascade: box only, no landmarks, CPU."""

    name = "haar"

    def __init__(self, path: str, min_face_size: int = 40) -> None:
        import cv2

        self.cascade = cv2.CascadeClassifier(path)
        self.min_size = (min_face_size, min_face_size)

    def detect(self, images: Sequence[np.ndarray]) -> list[list[Face]]:
        import cv2

        out = []
        for img in images:
            gray = cv2.equalizeHist(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY))
            found = self.cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5,
                                                  minSize=self.min_size)
            out.append([Face(np.array([x, y, x + w, y + h], float), 1.0, None, self.name)
                        for x, y, w, h in (found if len(found) else [])])
        return out


@DETECTORS.register("haar")
def haar(min_face_size: int = 40, check_only: bool = False, **_: object) -> HaarDetector | None:
    """OpenCV Haar cascade; the XML ships inside opencv-python-headless."""
    import cv2

    path = os.path.join(cv2.data.haarcascades, "haarcascade_frontalface_default.xml")
    if not os.path.isfile(path):
        raise PrepareError(f"detector=haar: cascade file missing at {path}; reinstall "
                           "opencv-python-headless", "detector")
    if check_only:
        return None
    return HaarDetector(path, min_face_size=min_face_size)


def _resize(img: np.ndarray, scale: float) -> np.ndarray:
    import cv2

    h, w = img.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)


def detect_frames(detector: Detector, images: Sequence[np.ndarray], detect_size: int = 640,
                  fallback: Detector | None = None) -> list[list[Face]]:
    """Detect on copies scaled so the longer side is at most ``detect_size`` (0: full size);
    frames where ``detector`` finds nothing go to ``fallback``. Coordinates are full-frame."""
    if not images:
        return []
    h, w = images[0].shape[:2]
    scale = min(1.0, detect_size / max(h, w)) if detect_size > 0 else 1.0
    small = [_resize(im, scale) if scale < 1.0 else im for im in images]
    found = detector.detect(small)
    if fallback is not None:
        empty = [i for i, faces in enumerate(found) if not faces]
        if empty:
            for i, faces in zip(empty, fallback.detect([small[i] for i in empty])):
                found[i] = faces
    for faces in found:
        for f in faces:
            f.box = f.box / scale
            if f.landmarks is not None:
                f.landmarks = f.landmarks / scale
    return found


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two x0, y0, x1, y1 boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def link_tracks(per_frame: list[list[Face]], min_iou: float = 0.3) -> int:
    """Give each face a ``track`` id: a face joins the track whose latest box overlaps it most
    (IoU >= ``min_iou``), largest faces first; returns the number of tracks."""
    last: list[np.ndarray] = []
    for faces in per_frame:
        taken: set[int] = set()
        for f in sorted(faces, key=lambda f: -f.area):
            scores = [(iou(f.box, box), t) for t, box in enumerate(last) if t not in taken]
            best = max(scores, default=(0.0, -1))
            if best[0] >= min_iou:
                f.track = best[1]
                last[best[1]] = f.box
            else:
                f.track = len(last)
                last.append(f.box)
            taken.add(f.track)
    return len(last)


def main_track(per_frame: list[list[Face]],
               weight: Callable[[Face], float] = lambda f: float(np.sqrt(f.area))) -> int:
    """Track id of the main face: the largest summed face size over frames, so a face that is
    both big and present in most frames wins over a large face seen once or a small bystander.
    Call :func:`link_tracks` first; -1 when there is no face."""
    totals: dict[int, float] = {}
    for faces in per_frame:
        for f in faces:
            totals[f.track] = totals.get(f.track, 0.0) + weight(f)
    return max(totals, key=totals.__getitem__) if totals else -1
