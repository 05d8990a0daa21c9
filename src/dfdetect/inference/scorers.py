"""One entry point for "the thing that scores": a checkpoint, an ONNX export or an ensemble.

``ckpt=a.ckpt`` is one model; ``ckpt=a.ckpt,b.ckpt`` averages the P(fake) of both, and
``ckpt=a.ckpt:0.7,b.ckpt:0.3`` weights them (weights are normalised to sum to 1). Each member
decodes the files with its own preprocessing (input size, mean, std), so models trained at
different resolutions work together. Every scorer offers the same three things: ``score(paths,
progress)`` -> Predictions, ``score_arrays(arrays)`` -> floats, and ``threshold``.

Example::

    scorer = build_scorer("a.ckpt:0.7,b.ckpt:0.3", device="cpu")
    [p.score for p in scorer.score(["face.jpg"])]
"""
from __future__ import annotations

import os
import re
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from dfdetect.config.loader import ConfigError
from dfdetect.inference.predictor import Prediction, Predictor

_WEIGHT = re.compile(r"^(?P<path>.+?):(?P<weight>[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)$")


def parse_ckpt_spec(spec: str) -> list[tuple[str, float]]:
    """``"a.ckpt:0.7,b.ckpt:0.3"`` -> ``[("a.ckpt", 0.7), ("b.ckpt", 0.3)]`` (weights sum to 1)."""
    parts = [p.strip() for p in str(spec).split(",") if p.strip()]
    if not parts:
        raise ConfigError("no checkpoint given: pass ckpt=<file> (or ckpt=a.ckpt,b.ckpt)")
    members = []
    for part in parts:
        m = _WEIGHT.match(part)
        path, weight = (m["path"], float(m["weight"])) if m else (part, 1.0)
        if weight <= 0:
            raise ConfigError(f"ckpt: weight of {path} must be positive, got {weight}")
        members.append((path, weight))
    total = sum(w for _, w in members)
    return [(p, w / total) for p, w in members]


class Ensemble:
    """Weighted mean of member scores; a file fails if any member fails to read it.

    Files are scored in chunks (every member scores a chunk, then the next chunk) so the
    progress bar moves and memory stays flat; each member decodes with its own preprocessing.
    """

    backend = "ensemble"

    def __init__(self, members: Sequence[Predictor], weights: Sequence[float]) -> None:
        self.members, self.weights = list(members), [float(w) for w in weights]
        self.batch_size = max(m.batch_size for m in self.members)
        self.meta = {"ensemble": [{"path": m.meta.get("path"), "weight": w,
                                   "preprocessing": m.meta["preprocessing"]}
                                  for m, w in zip(self.members, self.weights)],
                     "preprocessing": self.members[0].meta["preprocessing"]}

    @property
    def threshold(self) -> float:
        """Weighted mean of the members' thresholds (calibrate on val for a better one)."""
        return float(sum(m.threshold * w for m, w in zip(self.members, self.weights)))

    @property
    def perturb(self):
        return self.members[0].perturb

    @perturb.setter
    def perturb(self, fn) -> None:
        for m in self.members:
            m.perturb = fn

    def _combine(self, path: str, preds: Sequence[Prediction]) -> Prediction:
        bad = [p for p in preds if p.status != "ok"]
        if bad:
            return Prediction(path, None, "error", bad[0].error)
        return Prediction(path, float(sum(p.score * w for p, w in zip(preds, self.weights))))

    def score(self, paths: Iterable[str | os.PathLike],
              progress: Callable[[int], None] | None = None) -> Iterator[Prediction]:
        names = [str(p) for p in paths]
        chunk = self.batch_size * 4
        for start in range(0, len(names), chunk):
            part = names[start:start + chunk]
            per_member = [list(m.score(part)) for m in self.members]
            if progress is not None:  # before yielding: a consumer may stop after the last file
                progress(len(part))
            for i, path in enumerate(part):
                yield self._combine(path, [preds[i] for preds in per_member])

    def score_arrays(self, arrays: Sequence[np.ndarray]) -> list[float]:
        per_member = [m.score_arrays(arrays) for m in self.members]
        return [float(sum(s[i] * w for s, w in zip(per_member, self.weights)))
                for i in range(len(arrays))]


def _member(path: str, backend: str, device: str, batch_size: int, num_workers: int) -> Predictor:
    if backend == "onnx" or path.endswith(".onnx"):
        from dfdetect.inference.onnx_backend import OnnxPredictor

        return OnnxPredictor.from_path(path, batch_size or 32, max(0, num_workers))
    if backend != "torch":
        raise ConfigError(f"unknown backend '{backend}'; choose torch or onnx")
    return Predictor.from_checkpoint(path, device, batch_size, num_workers)


def build_scorer(spec: str, backend: str = "torch", device: str = "auto", batch_size: int = 0,
                 num_workers: int = -1):
    """A Predictor for one checkpoint, an Ensemble for several (see the module docstring)."""
    members = parse_ckpt_spec(spec)
    predictors = [_member(p, backend, device, batch_size, num_workers) for p, _ in members]
    if len(predictors) == 1:
        return predictors[0]
    return Ensemble(predictors, [w for _, w in members])
