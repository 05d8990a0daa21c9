"""The sub-commands: each is (config class, one-line summary, run function).

A config class may name a ``POSITIONAL`` field: bare words on the command line (no ``=``) are
joined with commas into it, so ``dfdetect compare runs/a runs/b`` means ``runs=runs/a,runs/b``.
"""
from __future__ import annotations

from dfdetect.config.schema import (CompareConfig, DemoConfig, DoctorConfig, EnvConfig,
                                    EvaluateConfig, ExportConfig, MergeConfig, PredictConfig,
                                    PrepareConfig, ServeConfig, TrainConfig)


def run_demo(cfg: DemoConfig) -> None:
    from dfdetect.demo.run import run_demo as demo

    demo(cfg)


def run_train(cfg: TrainConfig) -> None:
    """Train (then export=, if set); exits 130/143 after SIGINT/SIGTERM (state saved), 2 after
    a non-finite loss (message printed)."""
    import sys

    from dfdetect.inference.export import export_after_training
    from dfdetect.training.recipe import train
    from dfdetect.training.runlog import appending

    result = train(cfg)
    with appending(result.log):  # the export's lines go to train.log as well
        export_after_training(result, cfg.trainer.export)
        print(f"Run folder: {result.run_dir}")
        if result.best_ckpt.is_file():
            print(f"Best checkpoint: {result.best_ckpt}")
    if result.exit_status:
        sys.exit(result.exit_status)


def run_evaluate(cfg: EvaluateConfig) -> None:
    from dfdetect.evaluation.evaluate import evaluate

    evaluate(cfg)


def run_predict(cfg: PredictConfig) -> None:
    from dfdetect.inference.predict import predict

    predict(cfg)


def run_serve(cfg: ServeConfig) -> None:
    from dfdetect.cli.serve import run_serve as serve

    serve(cfg)


def run_compare(cfg: CompareConfig) -> None:
    from dfdetect.evaluation.compare import compare

    compare(cfg)


def run_export(cfg: ExportConfig) -> None:
    from dfdetect.inference.export import export

    export(cfg)


def run_prepare(cfg: PrepareConfig) -> None:
    from dfdetect.preparation import prepare

    prepare(cfg)


def run_merge(cfg: MergeConfig) -> None:
    from dfdetect.preprocess.merge import merge_shards

    merge_shards(cfg.root, cfg.out, check_files=cfg.check_files)


def run_doctor(cfg: DoctorConfig) -> None:
    from dfdetect.data.doctor import doctor
    from dfdetect.data.manifest import ManifestError
    from dfdetect.modalities import get_modality

    if not cfg.manifest:
        raise ManifestError("doctor needs manifest=<manifest CSV>")
    report = doctor(cfg.manifest, cfg.root, hash_files=cfg.hash_files,
                    shortcut_warn=cfg.shortcut_warn, modality_of=get_modality)
    print(report.text)
    if not report.ok:
        raise ManifestError(f"{cfg.manifest}: leakage, duplicates or missing files (see above)")


def run_models(_: None) -> None:
    from dfdetect.models import model_names

    print("Registered models (any timm model works as timm:<name>, e.g. timm:efficientnet_b0):")
    for name in model_names():
        print(f"  {name}")
    from dfdetect.models.weights import sources

    print("Pretrained weights installed as packages (no network; pretrained=<dataset> or name):")
    for src in sources():
        print(f"  timm:{src.model}  pretrained={src.dataset} or {src.name}  ({src.package}, "
              f"{src.licence}, trained at {src.input_size} px)")


def run_env(cfg: EnvConfig) -> None:
    from dfdetect.envcheck import run_env as env

    env(cfg.format, cfg.folder, cfg.min_free_gb)


COMMANDS = {
    "demo": (DemoConfig, "build a small face-forgery set offline, then train, evaluate, predict",
             run_demo),
    "train": (TrainConfig, "train a detector from a manifest (or a real/fake folder)", run_train),
    "evaluate": (EvaluateConfig, "score a manifest split and write a metrics report",
                 run_evaluate),
    "predict": (PredictConfig, "score an image, a video, a folder or a manifest into submission.csv",
                run_predict),
    "serve": (ServeConfig, "serve an HTTP API and a web page that score uploaded images, videos "
              "and clips (per-frame timeline)", run_serve),
    "compare": (CompareConfig, "print the metrics of several evaluation reports side by side",
                run_compare),
    "export": (ExportConfig, "export a checkpoint to ONNX (dynamic batch) with a parity check",
               run_export),
    "prepare": (PrepareConfig, "turn a dataset's own layout into a manifest with splits; videos "
                "into face crops", run_prepare),
    "merge": (MergeConfig, "join the shard manifests of a sharded prepare", run_merge),
    "doctor": (DoctorConfig, "report class balance, split leakage, duplicate and missing files, "
               "label shortcuts",
               run_doctor),
    "models": (None, "list the registered models", run_models),
    "env": (EnvConfig, "check this machine: python, torch, GPUs, device/precision=auto, face "
            "detector, video codecs, optional packages, disk (exit 2 if something required is "
            "missing)", run_env),
}
