"""Do the shipped recipes detect forgeries they were not trained on? One run, side by side.

Trains each recipe and a plain baseline (timm ResNet-18 from scratch, cross-entropy, flips only)
under the SAME wall-clock budget per training (``trainer.max_time``) and prints test AUC / EER
with 95 % bootstrap intervals (:func:`dfdetect.metrics.bootstrap.bootstrap_ci`) and the training
seconds, for these rows (issue 10, section 4):

* ``faces_in_domain``: ``faces_flux`` real vs diffusion fakes -> the same kind of fakes;
* ``faces_cross``: diffusion fakes -> face swaps built from the same real photos
  (:func:`dfdetect.demo.swaps.build_swap_set`), and face swaps -> diffusion fakes;
* ``faces_real_only``: real photos only + pseudo-fakes (``pseudo_fakes=sbi``) -> both fake sets;
* ``speech``: ``speech_vocoded`` by utterance split (``bench/quality_speech.py:run`` when it
  exists, else ``configs/audio/lcnn_lfcc.yaml``).

``faces_flux`` has four identities only, so test identities are never trained on: the identities
are cut into ``--folds`` folds (2: two identities held out per model; 4: leave one out), a model
is trained per fold on the other identities and scores its held-out ones, and the pooled test
scores give the row. Intervals resample whole (identity, source) clusters (the real photos are
frames of a few interview videos per identity, near-duplicates of each other); the per-identity
AUCs are printed too. Every model is scored from its ``last.ckpt`` (the weights at the end of the
budget): no validation set, which could contain the tested fake type, picks anything.

A recipe is a config file plus overrides (:data:`RECIPES`); add one there.

    python bench/quality.py                                  # everything, 10 min per training
    python bench/quality.py --only faces_cross --budget-min 3 --folds 2 \\
        --set data.image_size=96 --out quality            # quality.json + quality.md
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
ROWS = ("faces_in_domain", "faces_cross", "faces_real_only", "speech")


@dataclass(frozen=True)
class Recipe:
    """A config file (relative to the project) plus ``key=value`` overrides."""

    config: str
    overrides: tuple[str, ...] = ()
    real_only: bool = False  # trains on the real photos only (pseudo-fakes make the fakes)
    fill_budget: bool = False  # no schedule of its own: train until the budget ends
    note: str = ""

    def available(self) -> bool:
        return not self.config or (ROOT / self.config).is_file()


#: the plain baseline of the issue: ResNet-18 from scratch, cross-entropy, flips only, constant
#: rate (the budget, not a schedule, ends it)
BASELINE = Recipe("", ("model.name=timm:resnet18", "model.pretrained=false", "loss.name=ce",
                       "optim.optimizer=adamw", "optim.lr=0.001", "optim.scheduler=none",
                       "data.image_size=128", "data.batch_size=32", "augment.crop_scale=1,1",
                       "augment.hflip_p=0.5", "augment.rotate_p=0", "augment.jitter_p=0",
                       "augment.jpeg_p=0", "augment.blur_p=0", "augment.downscale_p=0"),
                  fill_budget=True, note="ResNet-18 from scratch, CE, flips")

RECIPES: dict[str, Recipe] = {
    "baseline": BASELINE,
    "lite0_ft": Recipe("configs/faces_effnet_lite0_ft.yaml",
                       note="EfficientNet-Lite0 ImageNet, fine-tuned"),
    "lite0_mix": Recipe("configs/faces_lite0_mix.yaml",
                        note="EfficientNet-Lite0 ImageNet, labelled fakes + SBI pseudo-fakes, "
                             "256 px"),
    "lite0_mix128": Recipe("configs/faces_effnet_lite0_ft.yaml",
                           ("data.pseudo_fakes=sbi", "data.pseudo_with_fakes=true",
                            "data.pseudo_fake_p=0.4"),
                           note="fine-tune recipe (128 px) + SBI pseudo-fakes with the labelled "
                                "fakes (the first measured mix)"),
    "sbi_lite0": Recipe("configs/sbi_lite0.yaml", real_only=True,
                        note="EfficientNet-Lite0 ImageNet, SBI pseudo-fakes"),
    "sbi_lite0_ellipse": Recipe("configs/faces_effnet_lite0_ft.yaml",
                                ("data.pseudo_fakes=sbi", "data.pseudo_fake_p=0.5"),
                                real_only=True, note="fine-tune recipe + pseudo_fakes=sbi"),
}


# ----------------------------------------------------------------------------- data
@dataclass
class FaceSets:
    """The two labelled face sets as sample lists (labels_csv rows, swap manifest rows)."""

    flux: list
    swap: list
    identities: list[str]


def face_sets(data: Path, cache: Path, seed: int, n_folds: int, echo,
              landmarks: bool = True) -> FaceSets | None:
    from dfdetect.data.load import open_dataset
    from dfdetect.demo.swaps import build_swap_set

    labels = data / "faces_flux" / "labels.csv"
    if not labels.is_file():
        return None
    flux_manifest = labels
    if landmarks:  # image prepare: face box, five points, dense hull (what SBI blends inside)
        from dfdetect.cli.main import main as dfdetect

        flux_manifest = cache / "faces_flux_prepared" / "manifest.csv"
        if not flux_manifest.is_file():
            echo(f"preparing faces_flux (faces and landmarks) -> {flux_manifest}")
            if dfdetect(["prepare", "data=labels_csv", f"root={labels}",
                         f"out={flux_manifest}"]) != 0:
                raise SystemExit(f"prepare of {labels} failed (see the lines above)")
    flux = open_dataset(str(flux_manifest), keep_unsplit=True)
    ids = sorted({s.group for s in flux.samples})
    # donors from the same fold: a held-out identity's swaps carry no trained-on face (with one
    # identity per fold that is impossible: any other identity donates)
    donors = {g: [h for h in fold if h != g] or [h for h in ids if h != g]
              for fold in folds(ids, n_folds) for g in fold}
    swap_dir = cache / f"swaps_seed{seed}_folds{n_folds}"
    manifest = swap_dir / "manifest.csv"
    if not manifest.is_file():
        echo(f"building the face-swap set from faces_flux's real photos -> {swap_dir}")
        t0 = time.perf_counter()
        build_swap_set(labels, swap_dir, seed=seed, donors=donors)
        echo(f"  {time.perf_counter() - t0:.0f} s")
    swap = open_dataset(str(manifest), keep_unsplit=True)
    for m in (flux, swap):  # absolute paths: the fold manifests live elsewhere
        for s in m.samples:
            s.path = str(m.resolve(s).resolve())
    return FaceSets(flux.samples, swap.samples, ids)


def folds(identities: list[str], k: int) -> list[list[str]]:
    """Held-out identities of each fold (every identity is held out exactly once)."""
    k = max(1, min(k, len(identities)))
    return [identities[i::k] for i in range(k)]


def fold_manifest(path: Path, samples: list, held_out: list[str], seed: int,
                  val_fakes: list | None = None) -> Path:
    """train (85 %) / val (15 %, rows drawn at random) from the other identities, test from the
    held-out ones. Real-only training adds 15 % of ``val_fakes`` (of the training identities) to
    val, which needs both classes; the bench scores last.ckpt, so val picks nothing."""
    from dataclasses import replace

    from dfdetect.data.manifest import Manifest, write_manifest

    rng = np.random.default_rng(seed)
    rows = []
    for s in samples:  # training identities' rows are their own groups: val is a random 15 %
        if s.group in held_out:
            rows.append(replace(s, split="test"))
        else:
            rows.append(replace(s, split="val" if rng.random() < 0.15 else "train",
                                group=f"{s.group}/{s.id}"))
    rows += [replace(s, split="val", group=f"{s.group}/{s.id}") for s in val_fakes or ()
             if s.group not in held_out and s.label == "fake" and rng.random() < 0.15]
    path.parent.mkdir(parents=True, exist_ok=True)
    write_manifest(Manifest(rows, path.parent.resolve(), path.stem), path)
    return path


# ----------------------------------------------------------------------------- train + score
@dataclass
class Scores:
    """Pooled test scores of one (recipe, training set) over every fold."""

    labels: list[int] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    identities: list[str] = field(default_factory=list)
    seconds: float = 0.0
    epochs: list[int] = field(default_factory=list)
    errors: int = 0


def train_one(recipe: Recipe, manifest: Path, run_dir: Path, args, log) -> tuple[Path, float, int]:
    """Train under the budget; returns (last.ckpt, seconds, epochs completed)."""
    from dfdetect.config.loader import load_config
    from dfdetect.config.schema import TrainConfig
    from dfdetect.training.recipe import train

    over = ([f"config={ROOT / recipe.config}"] if recipe.config else []) + list(recipe.overrides)
    over += [f"data.manifest={manifest}", f"out_dir={run_dir.parent}", f"name={run_dir.name}",
             f"trainer.max_time={_hms(args.budget_min * 60)}", "trainer.progress=false",
             "trainer.device=cpu", f"trainer.seed={args.seed}", "logging.loggers=csv",
             "trainer.log_every_n_steps=50", *args.set]
    cfg = load_config(TrainConfig, over)
    if recipe.fill_budget:
        cfg.trainer.epochs = 100_000  # max_time ends it
    _short_epochs(cfg, manifest, args.epoch_batches, scale_epochs=not recipe.fill_budget)
    t0 = time.perf_counter()
    result = train(cfg, echo=log)
    seconds = time.perf_counter() - t0
    if not result.last_ckpt.is_file():
        raise SystemExit(f"{run_dir}: the budget ended before the first epoch did; raise "
                         "--budget-min or lower data.image_size")
    import torch

    epochs = int(torch.load(result.last_ckpt, map_location="cpu", weights_only=True)["epoch"]) + 1
    return result.last_ckpt, seconds, epochs


def _hms(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _short_epochs(cfg, manifest: Path, batches: int, scale_epochs: bool = True) -> None:
    """Cut epochs to ``batches`` batches (a fresh draw each), so the budget ends close to a
    saved checkpoint on a slow machine, and scale every epoch-counted option so a recipe keeps
    its total number of steps and its schedule (the budget may cut it short)."""
    from dfdetect.data.manifest import read_manifest

    rows = read_manifest(manifest).samples
    reals_only = bool(cfg.data.pseudo_fakes) and not cfg.data.pseudo_with_fakes
    n = sum(s.split == cfg.data.train_split and (s.label == "real" or not reals_only)
            for s in rows)
    full = max(1, n // (cfg.data.batch_size or 32))
    if batches <= 0 or batches >= full:
        return
    k = full / batches
    t, o = cfg.trainer, cfg.optim
    if scale_epochs:
        t.epochs = max(1, round(t.epochs * k))
    t.limit_train_batches = float(batches)
    t.limit_val_batches = 2.0  # the bench scores last.ckpt: val picks nothing, keep it cheap
    o.warmup_epochs, o.step_epochs = o.warmup_epochs * k, o.step_epochs * k


def score(ckpt: Path, tests: dict[str, list], out: dict[str, Scores]) -> None:
    """Score every file of the test sets once (they share the real photos), then file each
    score under every test set that holds the file."""
    from dfdetect.inference.scorers import build_scorer

    paths = sorted({s.path for rows in tests.values() for s in rows})
    scorer = build_scorer(str(ckpt), device="cpu")
    by_path = dict(zip(paths, scorer.score(paths)))
    for name, rows in tests.items():
        for s in rows:
            p = by_path[s.path]
            if p.status != "ok" or p.score is None:
                out[name].errors += 1
                continue
            out[name].labels.append(s.target)
            out[name].scores.append(float(p.score))
            out[name].groups.append(f"{s.group}/{s.source}")
            out[name].identities.append(s.group)


def summarise(sc: Scores, n_boot: int, seed: int) -> dict:
    """AUC, EER, their intervals, per-identity AUC, seconds."""
    from dfdetect.metrics.binary import binary_metrics
    from dfdetect.metrics.bootstrap import bootstrap_ci

    m = binary_metrics(sc.labels, sc.scores)
    ci = bootstrap_ci(sc.labels, sc.scores, sc.groups, n=n_boot, seed=seed,
                      metrics=("auc", "eer"))
    ids = {}
    for ident in sorted(set(sc.identities)):
        pick = [i for i, g in enumerate(sc.identities) if g == ident]
        sub = binary_metrics([sc.labels[i] for i in pick], [sc.scores[i] for i in pick])
        ids[ident] = sub["auc"]
    return {"auc": m["auc"], "eer": m["eer"], "auc_ci": [ci["auc"]["low"], ci["auc"]["high"]],
            "eer_ci": [ci["eer"]["low"], ci["eer"]["high"]], "ci_note": ci["auc"].get("reason", ""),
            "per_identity_auc": ids, "n": len(sc.labels), "n_fake": int(sum(sc.labels)),
            "train_seconds": round(sc.seconds, 1), "epochs": sc.epochs, "errors": sc.errors}


# ----------------------------------------------------------------------------- face rows
def face_rows(wanted: set[str], args, echo, log) -> list[dict]:
    sets = face_sets(args.data, args.cache, args.seed, args.folds, echo, args.landmarks)
    if sets is None:
        echo(f"skipping the face rows: {args.data / 'faces_flux' / 'labels.csv'} is absent")
        return []
    recipes = [r for r in args.recipes if RECIPES[r].available()]
    for r in args.recipes:
        if not RECIPES[r].available():
            echo(f"recipe {r}: {RECIPES[r].config} not found, skipped")
    trainings = []  # (recipe, training set); test sets are scored from each training
    if wanted & {"faces_in_domain", "faces_cross"}:
        trainings += [(r, "flux") for r in recipes if not RECIPES[r].real_only]
    if "faces_cross" in wanted:
        trainings += [(r, "swap") for r in recipes if not RECIPES[r].real_only]
    if "faces_real_only" in wanted:
        trainings += [(r, "real") for r in recipes if RECIPES[r].real_only]
    trainings = [t for t in trainings if t[1] in args.train_on]
    reals = [s for s in sets.flux if s.label == "real"]
    train_data = {"flux": sets.flux, "swap": sets.swap, "real": reals}
    tests = {"flux": [s for s in sets.flux], "swap": [s for s in sets.swap if s.label == "fake"]
             + reals}
    scores = {}
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for recipe, tset in trainings:
        per_test = {t: Scores() for t in tests}
        for k, held in enumerate(folds(sets.identities, args.folds)):
            base = args.cache / "runs" / stamp / f"{recipe}_{tset}_fold{k}"
            manifest = fold_manifest(base / "manifest.csv", train_data[tset], held, args.seed,
                                     val_fakes=sets.flux if tset == "real" else None)
            echo(f"train {recipe} on {tset} without {','.join(held)} "
                 f"({args.budget_min} min budget)")
            ckpt, secs, epochs = train_one(RECIPES[recipe], manifest, base / "run", args, log)
            echo(f"  {secs:.0f} s, {epochs} epochs -> {ckpt}")
            picked = {t: _subsample([s for s in rows if s.group in held], args.max_test,
                                    args.seed + k) for t, rows in tests.items()}
            score(ckpt, picked, per_test)
            for sc in per_test.values():
                sc.seconds += secs
                sc.epochs.append(epochs)
        for tname, sc in per_test.items():
            scores[(recipe, tset, tname)] = summarise(sc, args.bootstrap, args.seed)
            with (args.cache / "runs" / stamp / "scores.jsonl").open("a") as fh:  # partial runs
                fh.write(json.dumps({"recipe": recipe, "train": tset, "test": tname,
                                     **scores[(recipe, tset, tname)]}) + "\n")
            echo(f"  {recipe} {tset} -> {tname}: AUC {scores[(recipe, tset, tname)]['auc']}")
    return [dict(row=_row_name(tset, tname), recipe=r, train=tset, test=tname, **v)
            for (r, tset, tname), v in scores.items() if _row_name(tset, tname) in wanted]


def _subsample(rows: list, n: int, seed: int) -> list:
    """At most ``n`` rows per class (seeded; 0 keeps all): scoring costs as much as training
    on a loaded CPU."""
    if n <= 0:
        return rows
    rng = np.random.default_rng(seed)
    out = []
    for label in ("real", "fake"):
        cls = [s for s in rows if s.label == label]
        keep = sorted(rng.choice(len(cls), size=min(n, len(cls)), replace=False))
        out += [cls[i] for i in keep]
    return out


def _row_name(train: str, test: str) -> str:
    if train.startswith("speech"):
        return "speech"
    if train == "real":
        return "faces_real_only"
    return "faces_in_domain" if train == test else "faces_cross"


# ----------------------------------------------------------------------------- speech row
def speech_rows(args, echo, log) -> list[dict]:
    speech = args.data / "speech_vocoded" / "labels.csv"
    if not speech.is_file():
        echo(f"skipping the speech row: {speech.parent} is absent")
        return []
    hook = Path(__file__).with_name("quality_speech.py")
    if hook.is_file():  # the speech recipe's own bench function
        spec = importlib.util.spec_from_file_location("quality_speech", hook)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod.run(budget_min=args.budget_min, cache=args.cache, seed=args.seed, echo=echo)
    from dataclasses import replace

    from dfdetect.data.load import open_dataset
    from dfdetect.data.manifest import Manifest, write_manifest

    m = open_dataset(str(speech), real_label="bonafide", fake_label="spoof",
                     split_ratio="0.7,0.15,0.15", seed=args.seed)  # groups: utterances
    base = args.cache / "runs" / datetime.now().strftime("%Y%m%d-%H%M%S") / "speech_lcnn"
    rows = [replace(s, path=str(m.resolve(s).resolve())) for s in m.samples]
    path = base / "manifest.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_manifest(Manifest(rows, base.resolve(), "speech"), path)
    recipe = Recipe("configs/audio/lcnn_lfcc.yaml", ("trainer.epochs=1000",))
    echo(f"train lcnn_lfcc on speech_vocoded ({args.budget_min} min budget)")
    ckpt, secs, epochs = train_one(recipe, path, base / "run", args, log)
    sc = Scores(seconds=secs, epochs=[epochs])
    score(ckpt, {"test": [s for s in rows if s.split == "test"]}, {"test": sc})
    sc.identities = ["all"] * len(sc.labels)
    out = summarise(sc, args.bootstrap, args.seed)
    return [dict(row="speech", recipe="lcnn_lfcc", train="speech_vocoded",
                 test="speech_vocoded", **out)]


# ----------------------------------------------------------------------------- output
def _ci(v, ci) -> str:
    if v is None:
        return "n/a"
    if ci[0] is None:
        return f"{v:.3f}"
    return f"{v:.3f} [{ci[0]:.2f}, {ci[1]:.2f}]"


def markdown(rows: list[dict], meta: dict) -> str:
    lines = [f"Measured {meta['date']} on {meta['machine']}; {meta['budget_min']:g} min wall-clock "
             f"budget per training, {meta['folds']} identity folds, epochs of "
             f"{meta.get('epoch_batches', 0) or 'all'} batches; {meta['note']}", "",
             "| row | recipe | train → test | AUC [95 % CI] | EER [95 % CI] | AUC per identity "
             "| train s (all folds) | epochs per fold |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ids = " ".join(f"{k} {v:.2f}" if v is not None else f"{k} n/a"
                       for k, v in r["per_identity_auc"].items())
        lines.append(f"| {r['row']} | {r['recipe']} | {r['train']} → {r['test']} | "
                     f"{_ci(r['auc'], r['auc_ci'])} | {_ci(r['eer'], r['eer_ci'])} | {ids} | "
                     f"{r['train_seconds']:.0f} | {','.join(map(str, r['epochs']))} |")
    return "\n".join(lines) + "\n"


def parse(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", default=",".join(ROWS), help=f"rows, comma separated: {ROWS}")
    p.add_argument("--recipes", default="baseline,lite0_ft,lite0_mix,sbi_lite0,sbi_lite0_ellipse",
                   help=f"recipes, comma separated: {list(RECIPES)}")
    p.add_argument("--train-on", default="flux,swap,real", help="face training sets to run, "
                   "comma separated: flux (diffusion fakes), swap, real (real-only recipes)")
    p.add_argument("--budget-min", type=float, default=10, help="wall-clock minutes per training")
    p.add_argument("--epoch-batches", type=int, default=8, help="batches per (short) epoch; "
                   "epoch-counted options are scaled to keep each recipe's steps; 0: full epochs")
    p.add_argument("--folds", type=int, default=2, help="identity folds (4 = leave one out)")
    p.add_argument("--set", action="append", default=[], help="override for every face "
                   "training, e.g. --set data.image_size=96")
    p.add_argument("--max-test", type=int, default=0, help="score at most this many rows per "
                   "class, test set and fold (0: all)")
    p.add_argument("--no-landmarks", dest="landmarks", action="store_false",
                   help="train on faces_flux's labels.csv as it is (SBI then blends ellipses) "
                        "instead of a copy prepared with faces and landmarks (dense hull)")
    p.add_argument("--bootstrap", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "dfdetect-quality",
                   help="swap set, fold manifests and runs (never inside the project)")
    p.add_argument("--data", type=Path, default=DATA, help="the shared data folder "
                   "(faces_flux, speech_vocoded)")
    p.add_argument("--out", default="", help="write <out>.json and <out>.md")
    p.add_argument("--note", default="", help="free text for the table header (e.g. load)")
    p.add_argument("--table-from", type=Path, default=None, help="only print the table of an "
                   "earlier (possibly interrupted) run: its <cache>/runs/<stamp>/scores.jsonl")
    args = p.parse_args(argv)
    args.only = [r.strip() for r in args.only.split(",") if r.strip()]
    args.recipes = [r.strip() for r in args.recipes.split(",") if r.strip()]
    args.train_on = [t.strip() for t in args.train_on.split(",") if t.strip()]
    bad = [r for r in args.only if r not in ROWS] + [r for r in args.recipes if r not in RECIPES]
    if bad:
        p.error(f"unknown row or recipe: {', '.join(bad)}")
    if ROOT in args.cache.resolve().parents or args.cache.resolve() == ROOT:
        p.error(f"--cache {args.cache} is inside the project; pick a folder outside it")
    return args


def main(argv=None) -> int:
    args = parse(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    log_path = args.cache / "quality.log"
    log_fh = log_path.open("a", encoding="utf-8")
    log = lambda *a: print(*a, file=log_fh, flush=True)  # noqa: E731 - training chatter
    echo = lambda msg: (print(msg, flush=True), log(msg))  # noqa: E731
    echo(f"training logs: {log_path}")
    wanted = set(args.only)
    if args.table_from:
        rows = [json.loads(x) for x in args.table_from.read_text().splitlines() if x.strip()]
        rows = [dict(row=_row_name(r["train"], r["test"]), **r) for r in rows]
        rows = [r for r in rows if r["row"] in wanted]
    else:
        rows = face_rows(wanted, args, echo, log) if wanted & set(ROWS[:3]) else []
        if "speech" in wanted:
            rows += speech_rows(args, echo, log)
    meta = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{platform.processor() or platform.machine()}, "
                       f"{__import__('os').cpu_count()} CPU cores", "budget_min": args.budget_min,
            "folds": args.folds, "epoch_batches": args.epoch_batches, "note": args.note,
            "argv": sys.argv[1:]}
    table = markdown(rows, meta)
    print("\n" + table)
    if args.out:
        Path(f"{args.out}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
        Path(f"{args.out}.md").write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
