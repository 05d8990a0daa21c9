"""The speech row of the quality benchmark: the shipped CPU speech recipe on speech_vocoded.

Prepares ``../shared/data/speech_vocoded`` (split by utterance group 0.7/0.15/0.15, seed 42, as
docs/audio.md), trains ``configs/audio/speech_cpu.yaml`` under a wall-clock budget
(``trainer.max_time``), scores the test split with ``best.ckpt`` (picked by validation EER) and
returns test EER / AUC with 95 % intervals (bootstrap over utterance groups), the training wall
time, the time per epoch and the parameter count. Not a test: a measurement.

    PYTHONPATH=src python bench/quality_speech.py                  # 10 min budget
    PYTHONPATH=src python bench/quality_speech.py --budget-min 5 --out /tmp/speech_row.json

From bench/quality.py: ``run(budget_min, cache, seed, echo)`` -> ``[row]`` in its row format;
or ``speech_row(time_budget_s)`` -> ``{"name", "eer", "ci", "train_seconds", ...}``.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "audio" / "speech_cpu.yaml"
#: ../shared/data next to the project, or $DFDETECT_SHARED_DATA (as tests/conftest.py)
DATA = Path(os.environ.get("DFDETECT_SHARED_DATA") or ROOT.parent / "shared" / "data") \
    / "speech_vocoded" / "labels.csv"
RECIPE = "speech_cpu"


def _prepare(labels: Path, work: Path) -> Path:
    from dfdetect.cli.main import main

    manifest = work / "data" / "manifest.csv"
    if not manifest.is_file():  # prepare is resumable; the converted clips are cached
        code = main(["prepare", "data=labels_csv", f"root={labels}", f"out={manifest}",
                     "real_label=bonafide", "fake_label=spoof", "split_ratio=0.7,0.15,0.15",
                     "seed=42"])
        if code != 0:
            raise SystemExit(f"prepare failed for {labels} (exit {code})")
    return manifest


def speech_row(time_budget_s: float = 600, labels: str | Path = DATA, work: str | Path = "",
               seed: int = 0, bootstrap: int = 1000, echo=print,
               overrides: tuple[str, ...] = ()) -> dict:
    """Train the recipe for at most ``time_budget_s`` seconds and score the test split.

    Returns ``{"name", "eer", "ci", "auc", "auc_ci", "train_seconds", "epochs",
    "seconds_per_epoch", "params", "n", "n_fake", "checkpoint"}``; ``ci`` is the EER's 95 %
    interval ``[low, high]`` (None when it cannot be drawn). ``overrides`` are extra
    ``key=value`` settings on top of the recipe (e.g. ``model.name=phase_stats``).
    """
    import tempfile

    import torch

    from dfdetect.checkpoint import read_checkpoint
    from dfdetect.config.loader import load_config
    from dfdetect.config.schema import EvaluateConfig, TrainConfig
    from dfdetect.evaluation.evaluate import evaluate
    from dfdetect.training.recipe import train

    labels = Path(labels)
    if not labels.is_file():
        raise SystemExit(f"{labels}: not found (speech_vocoded lives in ../shared/data)")
    work = Path(work or tempfile.mkdtemp(prefix="speech_row_"))
    manifest = _prepare(labels, work)
    minutes, seconds = divmod(int(time_budget_s), 60)
    hours, minutes = divmod(minutes, 60)
    run_name = f"{RECIPE}_{time.strftime('%Y%m%d-%H%M%S')}"
    cfg = load_config(TrainConfig, [f"config={CONFIG}", f"data.manifest={manifest}",
                                    f"out_dir={work / 'runs'}", f"name={run_name}",
                                    f"trainer.max_time={hours:02d}:{minutes:02d}:{seconds:02d}",
                                    "trainer.progress=false", "trainer.device=cpu",
                                    f"trainer.seed={seed}", "logging.loggers=csv",
                                    "data.num_workers=0", *overrides])
    echo(f"train {RECIPE} on {labels.parent.name} (budget {time_budget_s:.0f} s)")
    ends: list[float] = []  # wall clock at each "Epoch k/n" summary line

    def timed_echo(msg: str = "", *a, **kw) -> None:
        if str(msg).startswith("Epoch "):
            ends.append(time.perf_counter())
        echo(msg, *a, **kw)

    t0 = time.perf_counter()
    train(cfg, echo=timed_echo)
    train_seconds = time.perf_counter() - t0
    per_epoch = [b - a for a, b in zip([t0, *ends[:-1]], ends)]
    run = work / "runs" / run_name
    best = run / "best.ckpt"
    meta = read_checkpoint(best)
    out = work / "eval" / run_name
    ecfg = load_config(EvaluateConfig, [f"ckpt={best}", f"data={manifest}", "split=test",
                                        f"out={out}", "device=cpu", "num_workers=0",
                                        f"bootstrap={bootstrap}", f"seed={seed}"])
    evaluate(ecfg, echo=echo)
    report = json.loads((out / "metrics.json").read_text())
    ci = report.get("ci", {})
    last = torch.load(run / "last.ckpt", map_location="cpu", weights_only=True)

    def interval(key):
        c = ci.get(key) or {}
        return [c.get("low"), c.get("high")] if c.get("low") is not None else None

    return {"name": RECIPE, "model": meta["model"]["name"], "eer": report["audio"]["eer"],
            "ci": interval("eer"), "auc": report["overall"]["auc"], "auc_ci": interval("auc"),
            "train_seconds": round(train_seconds, 1), "epochs": int(last["epoch"]) + 1,
            "seconds_per_epoch": [round(s, 1) for s in per_epoch],
            "params": sum(int(v.numel()) for k, v in last["state_dict"].items()
                          if not k.endswith(("running_mean", "running_var",
                                             "num_batches_tracked"))),
            "n": report["overall"]["n"], "n_fake": report["overall"].get("n_fake"),
            "per_attack": {a: v["eer"] for a, v in report["audio"]["per_attack"].items()},
            "checkpoint": str(best), "report": str(out / "report.md"),
            "best_epoch_val_eer": meta.get("metrics", {}).get("val/eer")}


def run(budget_min: int = 10, cache: Path | None = None, seed: int = 0, echo=print) -> list[dict]:
    """bench/quality.py's hook: one row in its format (``eer_ci``, ``auc_ci``, seconds)."""
    work = Path(cache) / "speech_row" if cache else ""
    r = speech_row(budget_min * 60, work=work, seed=seed, echo=echo)
    return [dict(row="speech", recipe=r["name"], train="speech_vocoded", test="speech_vocoded",
                 auc=r["auc"], eer=r["eer"], auc_ci=r["auc_ci"] or [None, None],
                 eer_ci=r["ci"] or [None, None], ci_note="bootstrap over utterance groups",
                 per_identity_auc={}, n=r["n"], n_fake=r["n_fake"],
                 train_seconds=r["train_seconds"], epochs=[r["epochs"]], errors=0)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--budget-min", type=float, default=10.0)
    ap.add_argument("--labels", default=str(DATA))
    ap.add_argument("--work", default="", help="folder for the prepared clips and runs")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="", help="also write the row as JSON here")
    ap.add_argument("--set", nargs="*", default=[], help="extra key=value settings")
    args = ap.parse_args()
    row = speech_row(args.budget_min * 60, args.labels, args.work, args.seed,
                     overrides=tuple(args.set))
    print(json.dumps(row, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(row, indent=2))


if __name__ == "__main__":
    main()
