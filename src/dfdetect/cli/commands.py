"""The sub-commands: each is (config class, one-line summary, run function)."""
from __future__ import annotations

from dfdetect.config.schema import (DemoConfig, EvaluateConfig, PredictConfig, PrepareConfig,
                                    TrainConfig)


def run_demo(cfg: DemoConfig) -> None:
    from dfdetect.demo.run import run_demo as demo

    demo(cfg)


def run_train(cfg: TrainConfig) -> None:
    from dfdetect.training.recipe import train

    result = train(cfg)
    print(f"Run folder: {result.run_dir}")
    if result.best_ckpt.is_file():
        print(f"Best checkpoint: {result.best_ckpt}")


def run_evaluate(cfg: EvaluateConfig) -> None:
    from dfdetect.evaluation.evaluate import evaluate

    evaluate(cfg)


def run_predict(cfg: PredictConfig) -> None:
    from dfdetect.inference.predict import predict

    predict(cfg)


def run_prepare(cfg: PrepareConfig) -> None:
    from dfdetect.data.prepare import prepare

    prepare(cfg)


def run_models(_: None) -> None:
    from dfdetect.models import model_names

    print("Registered models (any timm model works as timm:<name>, e.g. timm:efficientnet_b0):")
    for name in model_names():
        print(f"  {name}")


COMMANDS = {
    "demo": (DemoConfig, "build a small face-forgery set offline, then train, evaluate, predict",
             run_demo),
    "train": (TrainConfig, "train a detector from a manifest (or a real/fake folder)", run_train),
    "evaluate": (EvaluateConfig, "score a manifest split and write a metrics report",
                 run_evaluate),
    "predict": (PredictConfig, "score an image, a folder or a manifest into submission.csv",
                run_predict),
    "prepare": (PrepareConfig, "turn a dataset's own layout into a manifest with splits",
                run_prepare),
    "models": (None, "list the registered models", run_models),
}
