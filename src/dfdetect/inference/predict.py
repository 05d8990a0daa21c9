"""``predict``: score an image, a folder or a manifest and write a submission file."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from dfdetect.config.schema import PredictConfig
from dfdetect.data.adapters import IMAGE_EXTS
from dfdetect.inference.predictor import Predictor, list_media
from dfdetect.inference.writers import writer_for

log = logging.getLogger(__name__)


class InputError(ValueError):
    """An input that names nothing to score."""


@dataclass
class PredictResult:
    out: Path
    scored: int
    failed: int
    rows: list[dict]


def resolve_inputs(cfg: PredictConfig, exts=IMAGE_EXTS) -> list[tuple[str, str]]:
    """(id, path) pairs for a file, a folder (recursive, files with ``exts``) or a manifest."""
    src = Path(cfg.input).expanduser()
    if not cfg.input:
        raise InputError("no input given: pass input=<image, folder or manifest.csv>")
    if src.is_file() and src.suffix.lower() == ".csv":
        from dfdetect.data.load import open_dataset

        m = open_dataset(str(src), check_files=False)
        m = m.where(split=cfg.split) if cfg.split else m
        return [(s.id, str(m.resolve(s))) for s in m.samples]
    if src.is_file():
        return [(src.name, str(src))]
    if src.is_dir():
        files = list_media(src, exts)
        if not files:
            raise InputError(f"{src}: no media files found (looked for {', '.join(sorted(exts))})")
        return [(f.relative_to(src).as_posix(), str(f)) for f in files]
    raise InputError(f"input not found: {src}")


def predict(cfg: PredictConfig, echo=print) -> PredictResult:
    """Score every input and write ``cfg.out``; failed files get status=error rows."""
    from tqdm.auto import tqdm

    predictor = Predictor.from_checkpoint(cfg.ckpt, cfg.device, cfg.batch_size, cfg.num_workers)
    items = resolve_inputs(cfg, getattr(predictor.handler, "extensions", IMAGE_EXTS))
    threshold = predictor.threshold if cfg.threshold < 0 else cfg.threshold
    rows = []
    with tqdm(total=len(items), desc="predict", unit="file", leave=False) as bar:
        for (id_, _), p in zip(items, predictor.score([x for _, x in items], bar.update)):
            label = None if p.score is None else ("fake" if p.score >= threshold else "real")
            rows.append({"id": id_, "path": p.path, "score": p.score, "label": label,
                         "status": p.status, "error": p.error, "windows": p.windows})
    out = Path(cfg.out)
    columns = [c.strip() for c in cfg.columns.split(",") if c.strip()]
    headers = {"id": cfg.id_column, "score": cfg.score_column, "label": cfg.label_column}
    writer_for(out)(rows, out, columns, headers)
    # issue 6: per-window scores of windowed (audio) files as JSON lines beside the output
    from dfdetect.inference.audio_windows import write_window_scores
    write_window_scores(rows, predictor.meta["preprocessing"], out, echo)
    failed = sum(r["status"] != "ok" for r in rows)
    echo(f"Scored {len(rows) - failed}/{len(rows)} files ({failed} failed) with threshold "
         f"{threshold:.3f} -> {out}")
    if failed and "status" not in columns:
        fail_path = out.with_name(out.stem + ".failures.csv")
        writer_for(fail_path)([r for r in rows if r["status"] != "ok"], fail_path,
                              ["id", "path", "status", "error"])
        echo(f"Failed files are listed in {fail_path}")
    return PredictResult(out, len(rows) - failed, failed, rows)
