"""dfdetect: deepfake detection from raw media to a scored submission.

The public API mirrors the CLI::

    from dfdetect import Config, train, evaluate, predict

    cfg = Config()                       # TrainConfig: typed defaults
    cfg.data.manifest = "data/faces/manifest.csv"
    result = train(cfg)
    evaluate(EvaluateConfig(ckpt=str(result.best_ckpt), data=cfg.data.manifest))

Nothing heavy is imported until a function is called.
"""
from __future__ import annotations

from dfdetect.__version__ import __version__
from dfdetect.config.loader import load_config
from dfdetect.config.schema import (CompareConfig, DemoConfig, EvaluateConfig, ExportConfig,
                                    PredictConfig, PrepareConfig, TrainConfig)

Config = TrainConfig


def train(cfg: TrainConfig, echo=print):
    """Train a detector (then export the best checkpoint when ``cfg.trainer.export`` is set);
    see :func:`dfdetect.training.recipe.train`."""
    from dfdetect.inference.export import export_after_training
    from dfdetect.training.recipe import train as _train

    result = _train(cfg, echo=echo)
    export_after_training(result, cfg.trainer.export, echo)
    return result


def evaluate(cfg: EvaluateConfig, echo=print):
    """Write a metrics report; see :func:`dfdetect.evaluation.evaluate.evaluate`."""
    from dfdetect.evaluation.evaluate import evaluate as _evaluate

    return _evaluate(cfg, echo=echo)


def predict(cfg: PredictConfig, echo=print):
    """Score media into a submission file; see :func:`dfdetect.inference.predict.predict`."""
    from dfdetect.inference.predict import predict as _predict

    return _predict(cfg, echo=echo)


def compare(cfg: CompareConfig, echo=print) -> str:
    """Side-by-side table of reports; see :func:`dfdetect.evaluation.compare.compare`."""
    from dfdetect.evaluation.compare import compare as _compare

    return _compare(cfg, echo=echo)


def export(cfg: ExportConfig, echo=print):
    """Export a checkpoint (ONNX) with a parity check; see :func:`dfdetect.inference.export.export`."""
    from dfdetect.inference.export import export as _export

    return _export(cfg, echo=echo)


__all__ = ["__version__", "Config", "TrainConfig", "EvaluateConfig", "PredictConfig",
           "PrepareConfig", "DemoConfig", "CompareConfig", "ExportConfig", "load_config",
           "train", "evaluate", "predict", "compare", "export"]
