"""Score media files with a checkpoint: batched, failure-tolerant, device-aware.

Every input gets a :class:`Prediction`: a score (probability of fake) or, when it cannot be read,
``status="error"`` with the reason. A failed file is never given a silent score.

A modality with a ``score_transform`` (audio) turns one file into several windows (W, ...); the
file's score is the mean of its windows' scores, which are kept in ``Prediction.windows``.

Example::

    pred = Predictor.from_checkpoint("runs/demo/best.ckpt")
    for p in pred.score(["a.jpg", "b.png"]):
        print(p.path, p.status, p.score)
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from dfdetect.checkpoint import load_checkpoint
from dfdetect.data.media import DecodeError
from dfdetect.modalities import get_modality
from dfdetect.training.device import resolve_device

log = logging.getLogger(__name__)


@dataclass
class Prediction:
    """The outcome for one file."""

    path: str
    score: float | None
    status: str = "ok"  # ok | error
    error: str = ""
    windows: list[float] = field(default_factory=list)  # per-window scores (windowed modalities)


class _Files(Dataset):
    """Decode -> optional perturbation of the decoded array -> the checkpoint's transform."""

    def __init__(self, paths: Sequence[str], modality, preprocessing: dict,
                 perturb: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        self.paths, self.modality, self.prep = list(paths), modality, preprocessing
        windowed = modality.score_transform
        self.transform = (windowed or modality.eval_transform)(preprocessing)
        self.windowed = windowed is not None
        self.perturb = perturb

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> tuple[int, torch.Tensor | None, str]:
        try:
            raw = self.modality.load(self.paths[i], self.prep)
            if self.perturb is not None:
                raw = self.perturb(raw)
            x = self.transform(raw)
            return i, (x if self.windowed else x.unsqueeze(0)), ""  # (W, ...) views of a file
        except DecodeError as e:
            return i, None, str(e).split(": ", 1)[-1]
        except Exception as e:  # noqa: BLE001 - one odd file must not end the run
            return i, None, f"cannot read ({type(e).__name__}: {' '.join(str(e).split())[:200]})"


NON_FINITE = ("non-finite score ({}): the model output NaN or inf for this file (extreme sample "
              "values, or broken weights)")


def _prediction(path: str, per_file: torch.Tensor, windowed: bool) -> Prediction:
    """A file's prediction from its views' scores; a non-finite score is an error, never a
    label (``evaluate`` would otherwise average NaN into its metrics)."""
    score = float(per_file.mean())
    if not np.isfinite(score):
        return Prediction(path, None, "error", NON_FINITE.format(score))
    return Prediction(path, score, windows=per_file.tolist() if windowed else [])


def _collate(items):
    ok = [(i, x) for i, x, _ in items if x is not None]
    bad = [(i, err) for i, x, err in items if x is None]
    views = torch.cat([x for _, x in ok]) if ok else None  # (sum of W, ...)
    return [i for i, _ in ok], [len(x) for _, x in ok], views, bad


class Predictor:
    """A loaded checkpoint plus its preprocessing, ready to score files or decoded arrays.

    ``perturb`` (set by the robustness sweep) is applied to every decoded array before the
    checkpoint's own transform. Subclasses (the ONNX backend) replace :meth:`forward` only, so
    decoding, batching and failure handling are shared.
    """

    backend = "torch"

    def __init__(self, model: torch.nn.Module | None, meta: dict, device: str = "cpu",
                 batch_size: int = 16, num_workers: int = 0) -> None:
        self.model = model.to(device).eval() if model is not None else None
        self.meta = meta
        self.device = device
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.modality = get_modality(meta["preprocessing"].get("modality", "image"))
        self.perturb: Callable[[np.ndarray], np.ndarray] | None = None

    def forward(self, images: torch.Tensor) -> list[float]:
        """P(fake) for a preprocessed batch ``(B, 3, S, S)``."""
        logits = self.model(images.to(self.device))  # (B, 2)
        return logits.float().softmax(-1)[:, 1].cpu().tolist()

    @torch.inference_mode()
    def score_arrays(self, arrays: Sequence[np.ndarray]) -> list[float]:
        """P(fake) for decoded (H, W, 3) uint8 RGB arrays (video face crops), in order."""
        transform = self.modality.eval_transform(self.meta["preprocessing"])
        out: list[float] = []
        for start in range(0, len(arrays), self.batch_size):
            chunk = arrays[start:start + self.batch_size]
            if self.perturb is not None:
                chunk = [self.perturb(a) for a in chunk]
            out += self.forward(torch.stack([transform(a) for a in chunk]))
        return out

    @classmethod
    def from_checkpoint(cls, ckpt: str | os.PathLike, device: str = "auto", batch_size: int = 0,
                        num_workers: int = -1) -> "Predictor":
        """Load ``ckpt`` on the chosen device with device-aware loader defaults."""
        plan = resolve_device(device, precision="32")  # scoring runs in fp32 (no autocast)
        log.info(plan.message + " · inference in fp32")
        model, meta = load_checkpoint(ckpt)
        return cls(model, meta, plan.torch_device, batch_size or plan.batch_size * 2,
                   plan.num_workers if num_workers < 0 else num_workers)

    @property
    def threshold(self) -> float:
        """Decision threshold stored in the checkpoint."""
        return float(self.meta.get("threshold", 0.5))

    @torch.inference_mode()
    def score(self, paths: Iterable[str | os.PathLike], progress=None) -> Iterator[Prediction]:
        """Yield one Prediction per path, in input order within each batch."""
        names = [str(p) for p in paths]
        loader = DataLoader(_Files(names, self.modality, self.meta["preprocessing"], self.perturb),
                            batch_size=self.batch_size,
                            num_workers=self.num_workers, collate_fn=_collate)
        for idx, counts, views, bad in loader:
            out: dict[int, Prediction] = {i: Prediction(names[i], None, "error", err)
                                          for i, err in bad}
            if views is not None:
                out.update(self._score_views(names, idx, counts, views, loader.dataset.windowed))
            if progress is not None:  # before yielding: a consumer may stop after the last file
                progress(len(idx) + len(bad))
            for i in sorted(out):
                if out[i].status != "ok":
                    log.warning("could not score %s: %s", names[i], out[i].error)
                yield out[i]


    def _score_views(self, names, idx, counts, views, windowed) -> dict[int, Prediction]:
        """Predictions of one collated batch; when the batch fails as a whole, file by file."""
        try:
            probs = torch.tensor([p for chunk in views.split(self.batch_size)
                                  for p in self.forward(chunk)])  # (sum of W,)
            per_files = probs.split(counts)
        except Exception as e:  # noqa: BLE001
            if len(idx) == 1:
                reason = f"scoring failed ({type(e).__name__}: {' '.join(str(e).split())[:200]})"
                return {idx[0]: Prediction(names[idx[0]], None, "error", reason)}
            out: dict[int, Prediction] = {}
            for i, part in zip(idx, views.split(counts)):
                out.update(self._score_views(names, [i], [len(part)], part, windowed))
            return out
        return {i: _prediction(names[i], per_file, windowed) for i, per_file in zip(idx, per_files)}


def list_media(root: str | os.PathLike, exts: Iterable[str]) -> list[Path]:
    """Files under ``root`` (recursively) whose suffix is in ``exts``, sorted."""
    allowed = {e.lower() for e in exts}
    return sorted(p for p in Path(root).rglob("*") if p.is_file() and p.suffix.lower() in allowed)
