"""Score one uploaded file with the server's model: the same scorer, face cropper, aggregation
and audio windowing as ``predict`` (:func:`dfdetect.inference.predict.score_items`), so a file
gets the same score from both.

The model is loaded once (:meth:`Engine.load`), from the server's ``ckpt=`` only: a request
carries a file, never a path to load. What a request adds to predict's row: the file's
modality, the time and face box of each scored video frame, JPEG thumbnails of the face crops of
the most suspicious frames, and the times of each audio window.

Example::

    engine = Engine.load(ServeConfig(ckpt="runs/demo/run/best.ckpt"))
    engine.score_file("/tmp/x/upload.mp4", "clip.mp4")
    # {"modality": "video", "score": 0.81, "label": "fake", "frames": [...], ...}
"""
from __future__ import annotations

import base64
import io
import math
import threading
from pathlib import Path

import numpy as np

from dfdetect.__version__ import __version__
from dfdetect.config.schema import PredictConfig, ServeConfig


class ScoreError(Exception):
    """A file the server cannot score: ``status`` (422) and the reason."""

    def __init__(self, status: int, message: str, **extra) -> None:
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra


def finite(value):
    """``value`` with every non-finite float replaced by None (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    return str(value)


def jpeg_data_url(rgb: np.ndarray, quality: int = 85) -> str:
    """An (H, W, 3) uint8 crop as a ``data:image/jpeg;base64,...`` URL for the page."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def video_seconds(path: str) -> float:
    """Duration of a video from its packet index (no frame decoded); DecodeError if unreadable."""
    from dfdetect.data.media import DecodeError
    from dfdetect.preprocess import PrepareError
    from dfdetect.preprocess.frames import probe

    try:
        info = probe(path)
    except PrepareError as e:
        raise DecodeError(str(e)) from None
    if info.n_frames < 2:
        return 0.0
    step = (info.pts[-1] - info.pts[0]) / (info.n_frames - 1)
    return float((info.pts[-1] - info.pts[0] + step) * info.time_base)


def audio_seconds(path: str) -> float | None:
    """Duration of an audio file from its header (None when the header does not tell)."""
    import soundfile as sf

    try:
        return float(sf.info(path).duration)
    except Exception:  # noqa: BLE001 - not a libsndfile format: try the container
        pass
    try:
        import av

        with av.open(path) as c:
            return float(c.duration) / 1e6 if c.duration else None
    except Exception:  # noqa: BLE001 - unreadable: scoring reports why
        return None


class Engine:
    """The loaded scorer and what it takes to turn one file into the API's JSON."""

    def __init__(self, cfg: ServeConfig, scorer) -> None:
        from dfdetect.inference.predict import InputError, media_extensions

        self.cfg, self.scorer = cfg, scorer
        self.prep = scorer.meta["preprocessing"]
        self.threshold = float(scorer.threshold if cfg.threshold < 0 else cfg.threshold)
        if not math.isfinite(self.threshold):
            raise InputError(f"threshold {self.threshold} is not a number: pass "
                             f"threshold=<0..1> or use a checkpoint whose stored threshold is "
                             f"finite ({cfg.ckpt})")
        self.extensions = media_extensions(self.prep)
        self.predict_cfg = PredictConfig(ckpt=cfg.ckpt, frames=cfg.frames, progress=False,
                                         aggregation=cfg.aggregation, topk=cfg.topk)
        self._local = threading.local()  # one face cropper per worker thread

    @classmethod
    def load(cls, cfg: ServeConfig) -> "Engine":
        """Load ``cfg.ckpt`` (checkpoint, ONNX export or ensemble) as ``predict`` does."""
        from dfdetect.config.loader import ConfigError
        from dfdetect.inference.scorers import build_scorer

        if not cfg.ckpt.strip():
            raise ConfigError("serve needs ckpt=<checkpoint, .onnx export, or a,b ensemble>")
        # num_workers=0: each request decodes in its own thread, no loader processes
        return cls(cfg, build_scorer(cfg.ckpt, cfg.backend, cfg.device, cfg.batch_size, 0))

    def _provider(self):
        from dfdetect.inference.video import crop_provider

        if getattr(self._local, "provider", None) is None:
            self._local.provider = crop_provider(self.prep, self.cfg.frames)
        return self._local.provider

    def _check(self, path: str, name: str):
        """The file's modality, after the type and duration checks (ScoreError 422)."""
        from dfdetect.data.media import DecodeError
        from dfdetect.modalities import modality_of_file

        modality = modality_of_file(path)
        if modality is None or Path(path).suffix.lower() not in self.extensions:
            suffix = Path(name).suffix or "(none)"
            raise ScoreError(422, f"{name}: unsupported file type {suffix}; this model scores "
                                  f"{', '.join(sorted(self.extensions))}")
        limit, seconds = None, None
        try:
            if modality.per_frame:
                limit, seconds = self.cfg.max_video_seconds, video_seconds(path)
            elif modality.score_transform is not None:  # windowed media (audio)
                limit, seconds = self.cfg.max_audio_seconds, audio_seconds(path)
        except DecodeError as e:
            reason = str(e).split(": ", 1)[-1].replace(path, name)
            raise ScoreError(422, f"{name}: {reason}") from None
        if limit is not None and seconds is not None and seconds > limit:
            raise ScoreError(422, f"{name}: {seconds:.1f} s is longer than the server's limit of "
                                  f"{limit:g} s (max_{modality.name}_seconds={limit:g})",
                             limit_seconds=limit)
        return modality

    def score_file(self, path: str, name: str) -> dict:
        """The API's JSON for one file; ScoreError (422) when it cannot be scored."""
        from dfdetect.inference.audio_windows import window_rows
        from dfdetect.inference.predict import Item, score_items

        modality = self._check(path, name)
        seen: dict = {}

        def provider(p: str):
            seen["crops"] = self._provider()(p)
            return seen["crops"]

        item = Item(name, path, modality.per_frame)
        (row,) = score_items([item], self.scorer, self.predict_cfg, self.threshold,
                             provider=provider if item.video else None)
        reason = str(row["error"] or "").replace(path, name)  # never show the server's paths
        if row["status"] == "error":
            raise ScoreError(422, f"{name}: {reason}", modality=modality.name)
        out = {"name": name, "modality": modality.name, "score": row["score"],
               "label": row["label"], "threshold": self.threshold, "status": row["status"],
               "error": reason}
        if item.video:
            out["frames"] = row.get("frames", [])
            out["thumbnails"] = self._thumbnails(out["frames"], seen.get("crops") or [])
        if row.get("windows"):
            out["windows"] = [{k: w[k] for k in ("window", "start", "end", "score")}
                              for w in window_rows({**row, "path": path}, self.prep)]
        return finite(out)

    def _thumbnails(self, frames: list[dict], crops: list) -> list[dict]:
        """JPEG crops of the ``cfg.thumbnails`` highest-scoring frames, most suspicious first."""
        by_frame = {int(i): a for i, a in crops}
        top = sorted(frames, key=lambda f: -f["score"])[:self.cfg.thumbnails]
        return [{**{k: f[k] for k in ("frame", "time", "score") if k in f},
                 "image": jpeg_data_url(by_frame[f["frame"]])}
                for f in top if f["frame"] in by_frame]

    def model_info(self) -> dict:
        """What ``GET /v1/model`` returns: the model, its input, threshold, training data."""
        meta, cfg = self.scorer.meta, self.cfg
        members = meta.get("ensemble") or [{"path": meta.get("path"), "weight": 1.0}]
        train_cfg = meta.get("config") or {}
        data = train_cfg.get("data") or {} if isinstance(train_cfg, dict) else {}
        info = {
            "model": meta.get("model", {}), "backend": getattr(self.scorer, "backend", ""),
            "checkpoints": [{"file": Path(str(m.get("path") or "")).name,
                             "weight": m.get("weight", 1.0)} for m in members],
            "modality": self.prep.get("modality", "image"),
            "input": {k: v for k, v in self.prep.items() if k != "crop"},
            "video_crops": self.prep.get("crop") or None,
            "extensions": sorted(self.extensions),
            "threshold": self.threshold,
            "threshold_source": ("serve threshold=" if cfg.threshold >= 0
                                 else meta.get("threshold_source") or "stored in the checkpoint "
                                 "(train writes 0.5; evaluate reports thresholds chosen on val)"),
            "training_data": {"manifests": [Path(p).name for p in
                                            str(data.get("manifest", "")).split(",") if p],
                              "train_split": data.get("train_split"),
                              "val_split": data.get("val_split")} if data else None,
            "metrics": meta.get("metrics") or {},
            "epoch": meta.get("epoch"),
            "trained_with": meta.get("dfdetect_version"),
            "server": {"dfdetect": __version__, "frames": cfg.frames,
                       "aggregation": cfg.aggregation,
                       "limits": {"max_upload_bytes": int(cfg.max_upload_mb * 2**20),
                                  "max_video_seconds": cfg.max_video_seconds,
                                  "max_audio_seconds": cfg.max_audio_seconds,
                                  "max_concurrent": cfg.max_concurrent}},
        }
        return finite(info)

