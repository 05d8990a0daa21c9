"""Dense face landmarks (a registry) and what prepare keeps of them: the face hull and the parts.

``mediapipe`` is MediaPipe's FaceMesh (468 points from the forehead to the chin; mediapipe
0.10.14, whose wheel ships ``face_landmark.tflite`` and the short-range face detector, so nothing
is downloaded). The mesh is what Self-Blended Images (Shiohara & Yamasaki, CVPR 2022) blend
inside: the convex hull of dense landmarks, forehead included, rather than of five points.

mediapipe 0.10.14 was built for protobuf 4, and this environment needs protobuf >= 6 (onnx,
tensorboard). Its legacy ``solutions`` wrapper calls two protobuf APIs that protobuf 6 removed
(``FieldDescriptor.label`` when options are set, ``GetPrototype`` when results are read), so
:class:`_FaceMeshGraph` runs the same packaged graph through ``SolutionBase`` without option
overrides (the graph's own 0.5 thresholds) and parses the landmark packets itself.

A mesh is not stored point by point: prepare keeps the convex hull of the face
(``face_hull``) and of four parts (``part_eye1``, ``part_eye2`` in the order of the five landmarks
``lm1``/``lm2``, i.e. image left then image right, each eye with its brow; ``part_nose``;
``part_mouth``), each a short polygon, plus the five points when the detector gives none.

Example::

    mesh = build_landmarker("mediapipe")(rgb, box)   # (468, 2) pixels of rgb, or None
    columns = mesh_columns(mesh)                     # {"face_hull": "x y x y ...", ...}
"""
from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import sys
from typing import Protocol

import numpy as np

from dfdetect.data.manifest import HULL_COLUMN, PART_COLUMNS, format_polygon
from dfdetect.preprocess import PrepareError
from dfdetect.registry import Registry

#: mediapipe 0.10.14's packaged FaceMesh graph and the model files it loads
GRAPH = "mediapipe/modules/face_landmark/face_landmark_front_cpu.binarypb"
MODEL_FILES = ("mediapipe/modules/face_landmark/face_landmark.tflite",
               "mediapipe/modules/face_detection/face_detection_short_range.tflite", GRAPH)
INSTALL = ("pip install --no-deps mediapipe==0.10.14 absl-py attrs flatbuffers (the Makefile does"
           " this; 1.x wheels ship no models)")


class Landmarker(Protocol):
    """``(rgb, box or None) -> (N, 2) points in rgb's pixels, or None when no face``."""

    name: str

    def __call__(self, rgb: np.ndarray, box: np.ndarray | None = None) -> np.ndarray | None: ...


LANDMARKERS: Registry[Landmarker] = Registry("face landmarker")


def build_landmarker(name: str, **options) -> Landmarker:
    """The landmarker registered as ``name`` (``mediapipe``)."""
    return LANDMARKERS.build(name, **options)


def check_landmarker(name: str) -> None:
    """Package and model files present, without loading anything (stops before any work)."""
    LANDMARKERS.build(name, check_only=True)


def _mediapipe_root() -> str:
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        raise PrepareError(f"landmarks=mediapipe needs mediapipe: {INSTALL}; or landmarks=none",
                           "landmarks")
    return os.path.dirname(list(spec.submodule_search_locations)[0])


@contextlib.contextmanager
def _quiet_stderr():
    """Silence file descriptor 2 for a moment: mediapipe's C++ side prints a harmless protobuf
    complaint at import and TFLite / absl notices when the graph starts, which would otherwise
    land between a command's own lines (errors are still raised as exceptions)."""
    sys.stderr.flush()
    saved, hook = os.dup(2), sys.excepthook
    # PyErr_Print (the bindings' import complaint) goes through sys.excepthook first; in a
    # Jupyter kernel that hook turns it into an error output, so it is swapped out too
    sys.excepthook = lambda *_: None
    try:
        with open(os.devnull, "wb") as null, contextlib.redirect_stderr(io.StringIO()):
            os.dup2(null.fileno(), 2)  # C++ logging
            yield  # (and Python-level prints of the bindings, e.g. PyErr_Print)
    finally:
        sys.excepthook = hook
        os.dup2(saved, 2)
        os.close(saved)


class _FaceMeshGraph:
    """The packaged FaceMesh graph, one face, static images (see the module doc for why not
    ``mediapipe.solutions.face_mesh.FaceMesh``)."""

    def __init__(self) -> None:
        with _quiet_stderr():
            self._build()
            self(np.zeros((64, 64, 3), np.uint8))  # the first run prints the TFLite notices

    def _build(self) -> None:
        from mediapipe.framework.formats import landmark_pb2
        from mediapipe.python import _framework_bindings
        from mediapipe.python.solution_base import SolutionBase

        getter = _framework_bindings._packet_getter  # noqa: SLF001 - see the module doc

        class Graph(SolutionBase):
            def _get_packet_content(self, packet_data_type, output_packet):
                if output_packet.is_empty():
                    return None
                out = []
                for data in getter._get_serialized_proto_list(output_packet):  # noqa: SLF001
                    message = landmark_pb2.NormalizedLandmarkList()
                    message.ParseFromString(data)
                    out.append(message)
                return out

        self.graph = Graph(binary_graph_path=GRAPH, outputs=["multi_face_landmarks"],
                           side_inputs={"num_faces": 1, "with_attention": False,
                                        "use_prev_landmarks": False})

    def __call__(self, rgb: np.ndarray) -> np.ndarray | None:
        found = self.graph.process(input_data={"image": np.ascontiguousarray(rgb)})
        faces = found.multi_face_landmarks
        if not faces:
            return None
        h, w = rgb.shape[:2]
        return np.array([(p.x * w, p.y * h) for p in faces[0].landmark], np.float32)


class MediaPipeMesh:
    """468 FaceMesh points. With a face ``box`` the mesh runs on a square region around it
    (margin 25 %, at most 384 px), so a small face in a large photo is found as well as a crop."""

    name = "mediapipe"

    def __init__(self, work_size: int = 384) -> None:
        self.graph = _FaceMeshGraph()
        self.work_size = work_size

    def __call__(self, rgb: np.ndarray, box: np.ndarray | None = None) -> np.ndarray | None:
        import cv2

        from dfdetect.preprocess.crops import square_box

        h, w = rgb.shape[:2]
        x0, y0, side = (square_box(box, 0.25, w, h) if box is not None
                        else (0, 0, 0))
        region = rgb[y0:y0 + side, x0:x0 + side] if box is not None else rgb
        scale = min(1.0, self.work_size / max(region.shape[:2]))
        if scale < 1.0:
            size = (max(1, round(region.shape[1] * scale)), max(1, round(region.shape[0] * scale)))
            region = cv2.resize(region, size, interpolation=cv2.INTER_AREA)
        points = self.graph(region)
        if points is None:
            return None
        return points / scale + np.float32([x0, y0])


@LANDMARKERS.register("mediapipe")
def mediapipe(check_only: bool = False, **_: object) -> MediaPipeMesh | None:
    """MediaPipe FaceMesh 0.10.14; its models ship inside the wheel."""
    root = _mediapipe_root()
    missing = [f for f in MODEL_FILES if not os.path.isfile(os.path.join(root, f))]
    if missing:
        raise PrepareError(f"landmarks=mediapipe: {', '.join(missing)} missing under {root}; "
                           f"dfdetect never downloads models at run time: {INSTALL}", "landmarks")
    if check_only:
        return None
    return MediaPipeMesh()


# FaceMesh vertex groups (mediapipe's face_mesh_connections, as vertex sets). mediapipe names
# eyes from the person's side: its RIGHT_EYE appears on the image's left, like landmark lm1.
_EYE_IMAGE_LEFT = (33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173,
                   46, 53, 52, 65, 55, 70, 63, 105, 66, 107)
_EYE_IMAGE_RIGHT = (263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384,
                    398, 276, 283, 282, 295, 285, 300, 293, 334, 296, 336)
_NOSE = (168, 6, 197, 195, 5, 4, 1, 19, 94, 2, 98, 97, 326, 327, 294, 278, 344, 440, 275, 45,
         220, 115, 48, 64, 129, 49, 131, 134, 51, 236, 3, 248, 281, 363, 360, 279, 358, 331)
_MOUTH = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 185, 40, 39, 37, 0, 267, 269, 270,
          409, 78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 191, 80, 81, 82, 13, 312, 311,
          310, 415)
PARTS = dict(zip(PART_COLUMNS, (_EYE_IMAGE_LEFT, _EYE_IMAGE_RIGHT, _NOSE, _MOUTH)))


def hull(points: np.ndarray) -> np.ndarray:
    """Convex hull vertices (K, 2) of points (N, 2)."""
    import cv2

    return cv2.convexHull(np.asarray(points, np.float32)).reshape(-1, 2)


def five_points(mesh: np.ndarray) -> np.ndarray:
    """MTCNN-style (5, 2) points from a mesh: eye centres (image left, right), nose tip, mouth
    corners (image left, right)."""
    return np.stack([mesh[list(_EYE_IMAGE_LEFT[:16])].mean(0),
                     mesh[list(_EYE_IMAGE_RIGHT[:16])].mean(0),
                     mesh[1], mesh[61], mesh[291]]).astype(np.float32)


def mesh_box(mesh: np.ndarray) -> np.ndarray:
    """x0, y0, x1, y1 around the mesh (a face box when the detector found none)."""
    return np.concatenate([mesh.min(0), mesh.max(0)]).astype(float)


def mesh_columns(mesh: np.ndarray | None) -> dict[str, str]:
    """The manifest columns of a mesh (already in the output file's pixels); blanks for None."""
    if mesh is None:
        return {c: "" for c in (HULL_COLUMN, *PART_COLUMNS)}
    out = {HULL_COLUMN: format_polygon(hull(mesh))}
    out.update({c: format_polygon(hull(mesh[list(idx)])) for c, idx in PARTS.items()})
    return out
