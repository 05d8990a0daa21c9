"""``predict``: score an image, a video, a folder or a manifest and write a submission file.

Images (and prepared face-crop frames) go through the scorer in batches across files; videos go
through :class:`~dfdetect.inference.video.VideoScorer` (face crops pooled into batches, frame
scores aggregated). Every input gets a row: a score, or ``status=error`` with the reason. With a
``.jsonl`` output each video row also carries its per-frame scores.

Example::

    predict(PredictConfig(ckpt="best.ckpt", input="inbox/", out="submission.csv"))
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

from dfdetect.config.schema import PredictConfig
from dfdetect.inference.predictor import list_media
from dfdetect.inference.writers import writer_for
from dfdetect.modalities import get_modality, modality_of_file, scored_extensions

log = logging.getLogger(__name__)


class InputError(ValueError):
    """An input that names nothing to score."""


@dataclass
class PredictResult:
    out: Path
    scored: int
    failed: int
    rows: list[dict]


@dataclass
class Item:
    """One input: its id in the submission, its file, and whether it is scored per frame
    (a video: face crops of sampled frames, aggregated)."""

    id: str
    path: str
    video: bool = False


def _is_video(path: str) -> bool:
    """Whether the file's modality is scored per frame (face crops, aggregated per video)."""
    modality = modality_of_file(path)
    return bool(modality and modality.per_frame)


def media_extensions(preprocessing: dict) -> frozenset[str]:
    """What a folder input lists for this checkpoint: the extensions of every modality that
    trains as the checkpoint's (an image checkpoint: images and videos; audio: audio)."""
    return scored_extensions(get_modality(preprocessing.get("modality", "image")))


def resolve_inputs(cfg: PredictConfig, exts=None) -> list[Item]:
    """Items for a file, a folder (recursive, files with ``exts``; default: what an image
    checkpoint scores) or a manifest / labels CSV."""
    src = Path(cfg.input).expanduser()
    if not cfg.input:
        raise InputError("no input given: pass input=<image, video, folder or manifest.csv>")
    exts = media_extensions({}) if exts is None else exts
    if src.is_file() and src.suffix.lower() == ".csv":
        from dfdetect.data.load import open_dataset

        m = open_dataset(str(src), check_files=False)
        m = m.where(split=cfg.split) if cfg.split else m
        return [Item(s.id, str(m.resolve(s)), get_modality(s.modality).per_frame)
                for s in m.samples]
    if src.is_file():
        return [Item(src.name, str(src), _is_video(str(src)))]
    if src.is_dir():
        files = list_media(src, exts)
        if not files:
            raise InputError(f"{src}: no media files found (looked for {', '.join(sorted(exts))})")
        return [Item(f.relative_to(src).as_posix(), str(f), _is_video(str(f))) for f in files]
    raise InputError(f"input not found: {src}")


def _row(item: Item, p, threshold: float) -> dict:
    score, status, error = p.score, p.status, p.error
    if score is not None and not math.isfinite(score):  # never a label from NaN / inf
        score, status, error = None, "error", f"non-finite score ({score}): the model output " \
            "NaN or inf for this file (extreme sample values, or broken weights)"
        log.warning("could not score %s: %s", p.path, error)
    label = None if score is None else ("fake" if score >= threshold else "real")
    row = {"id": item.id, "path": p.path, "score": score, "label": label,
           "status": status, "error": error}
    if item.video:
        row["frames"] = getattr(p, "frames", [])
    if getattr(p, "windows", None):
        row["windows"] = p.windows
    return row


def score_items(items: list[Item], scorer, cfg: PredictConfig, threshold: float,
                progress=None, provider=None) -> list[dict]:
    """Rows in input order: images batched together, videos through the video scorer (face crops
    from ``provider``, default: :func:`crop_provider` with the checkpoint's crop settings)."""
    from dfdetect.inference.video import VideoScorer, crop_provider

    images = [i for i in items if not i.video]
    videos = [i for i in items if i.video]
    rows: dict[int, dict] = {}
    index = {id(i): n for n, i in enumerate(items)}
    for item, p in zip(images, scorer.score([i.path for i in images], progress)):
        rows[index[id(item)]] = _row(item, p, threshold)
    if videos:
        provider = provider or crop_provider(scorer.meta["preprocessing"], cfg.frames)
        vs = VideoScorer(scorer, provider, cfg.aggregation, cfg.topk)
        for item, p in zip(videos, vs.score([i.path for i in videos], progress)):
            rows[index[id(item)]] = _row(item, p, threshold)
    return [rows[n] for n in range(len(items))]


def _write(rows: list[dict], cfg: PredictConfig, echo) -> Path:
    out = Path(cfg.out)
    columns = [c.strip() for c in cfg.columns.split(",") if c.strip()]
    headers = {"id": cfg.id_column, "score": cfg.score_column, "label": cfg.label_column}
    writer_for(out)(rows, out, columns, headers)
    bad = [r for r in rows if r["status"] == "error"]
    if bad and "status" not in columns:
        fail_path = out.with_name(out.stem + ".failures.csv")
        writer_for(fail_path)(bad, fail_path, ["id", "path", "status", "error"])
        echo(f"Failed files are listed in {fail_path}")
    return out


def check_request(cfg: PredictConfig) -> None:
    """Before any model is loaded or file scored: a valid out= (a file name, not over the input,
    a checkpoint or a manifest unless overwrite=true) and known columns."""
    from dfdetect.config.choices import check_choices
    from dfdetect.config.outputs import check_output

    from dfdetect.inference.scorers import parse_ckpt_spec

    check_choices(cfg)  # also for configs built in Python (columns, ranges)
    ckpts = [p for p, _ in parse_ckpt_spec(cfg.ckpt)] if cfg.ckpt.strip() else []
    check_output("out", cfg.out, inputs=[cfg.input, *ckpts], overwrite=cfg.overwrite)


def predict(cfg: PredictConfig, echo=print) -> PredictResult:
    """Score every input and write ``cfg.out``; failed files get status=error rows."""
    from dfdetect.inference.audio_windows import write_window_scores
    from dfdetect.inference.progress import FileProgress
    from dfdetect.inference.scorers import build_scorer

    check_request(cfg)
    scorer = build_scorer(cfg.ckpt, cfg.backend, cfg.device, cfg.batch_size, cfg.num_workers)
    prep = scorer.meta["preprocessing"]
    items = resolve_inputs(cfg, media_extensions(prep))
    threshold = scorer.threshold if cfg.threshold < 0 else cfg.threshold
    if not math.isfinite(threshold):
        raise InputError(f"threshold {threshold} is not a number: pass threshold=<0..1> or use "
                         f"a checkpoint whose stored threshold is finite ({cfg.ckpt})")
    with FileProgress(len(items), "predict", cfg.progress) as bar:
        rows = score_items(items, scorer, cfg, threshold, bar.update)
    failed = sum(r["status"] == "error" for r in rows)
    partial = sum(r["status"] == "partial" for r in rows)
    out = _write(rows, cfg, echo)
    write_window_scores(rows, prep, out, echo)  # per-window scores of long (audio) files
    n_video = sum(i.video for i in items)
    kinds = f" ({len(items) - n_video} images, {n_video} videos)" if n_video else ""
    note = f" ({partial} partial: see the error column)" if partial else ""
    echo(f"Scored {len(rows) - failed}/{len(rows)} files{kinds}{note}, {failed} failed, with "
         f"threshold {threshold:.3f} ({scorer.backend}) -> {out}")
    return PredictResult(out, len(rows) - failed, failed, rows)
