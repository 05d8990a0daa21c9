"""The ONNX Runtime backend: the same decoding, batching and failure handling as
:class:`~dfdetect.inference.predictor.Predictor`, with the network run by onnxruntime.

An exported model is ``<name>.onnx`` plus ``<name>.onnx.json`` (written by ``dfdetect export``):
the JSON carries the checkpoint's preprocessing, labels and threshold, so the ONNX file alone
with its JSON is enough to predict, without PyTorch weights. The network input is whatever
:func:`~dfdetect.inference.export.example_input` made for the checkpoint's modality: image batches
(B, 3, S, S), or audio windows (B, T) of one fixed length, which the shared
:meth:`Predictor.score` cuts every file into (the file's score is the mean of its windows).

Example::

    pred = OnnxPredictor.from_path("runs/demo/run/best.onnx")
    [p.score for p in pred.score(["face.jpg"])]
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch

from dfdetect.checkpoint import CheckpointError
from dfdetect.inference.predictor import Predictor


def metadata_path(onnx_path: str | os.PathLike) -> Path:
    """Where the preprocessing metadata of an exported model lives (beside it)."""
    p = Path(onnx_path)
    return p.with_name(p.name + ".json")


def onnx_path_for(ckpt: str | os.PathLike) -> Path:
    """``x.onnx`` as given, or the export beside a checkpoint (``best.ckpt`` -> ``best.onnx``)."""
    p = Path(ckpt)
    return p if p.suffix == ".onnx" else p.with_suffix(".onnx")


def _session(path: Path, threads: int):
    try:
        import onnxruntime as ort
    except ImportError:
        raise CheckpointError("backend=onnx needs onnxruntime: pip install 'dfdetect[onnx]'") from None
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.intra_op_num_threads = max(1, threads)
    try:
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own Fail / InvalidGraph types
        raise CheckpointError(f"{path}: not a loadable ONNX model ({str(e)[:200]})") from None


class OnnxPredictor(Predictor):
    """A Predictor whose forward pass is an onnxruntime session (CPU)."""

    backend = "onnx"

    def __init__(self, session, meta: dict, batch_size: int = 32, num_workers: int = 0) -> None:
        super().__init__(None, meta, "cpu", batch_size, num_workers)
        self.session = session
        self.input_name = session.get_inputs()[0].name

    @classmethod
    def from_path(cls, path: str | os.PathLike, batch_size: int = 32, num_workers: int = 0,
                  threads: int = 0) -> "OnnxPredictor":
        """Load ``x.onnx`` (or the export beside ``x.ckpt``) and its metadata JSON."""
        onnx_file = onnx_path_for(path)
        meta_file = metadata_path(onnx_file)
        if not onnx_file.is_file() or not meta_file.is_file():
            raise CheckpointError(f"{onnx_file} (and its metadata {meta_file.name}) not found: "
                                  f"run `dfdetect export ckpt={path} format=onnx` first")
        meta = json.loads(meta_file.read_text())
        meta["path"] = str(onnx_file)
        session = _session(onnx_file, threads or torch.get_num_threads())
        return cls(session, meta, batch_size, num_workers)

    def forward(self, images: torch.Tensor) -> list[float]:
        """P(fake) for a preprocessed batch: (B, 3, S, S) images or (B, T) audio windows."""
        logits = self.session.run(None, {self.input_name: images.numpy().astype(np.float32)})[0]
        logits = logits - logits.max(axis=1, keepdims=True)  # (B, 2), stable softmax
        prob = np.exp(logits)
        return (prob[:, 1] / prob.sum(axis=1)).astype(float).tolist()
