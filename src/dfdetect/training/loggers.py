"""Experiment loggers by name (``loggers=tensorboard,csv,wandb,mlflow``).

TensorBoard and CSV need nothing beyond the base install and are the default. W&B and MLflow are
optional extras (``pip install dfdetect[wandb]`` / ``[mlflow]``); asking for one that is not
installed stops before training with the command that installs it. W&B defaults to offline mode
(``wandb sync`` uploads later); MLflow defaults to a file store inside the run folder.
"""
from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

from dfdetect.config.loader import ConfigError
from dfdetect.registry import Registry

LOGGERS: Registry[object] = Registry("logger")


class LoggerUnavailable(ConfigError):
    """An optional logger that is asked for but not installed."""


def _need(module: str, extra: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise LoggerUnavailable(f"loggers={extra} needs the {module} package: "
                                f"pip install 'dfdetect[{extra}]' (or drop {extra} from loggers=)")


@LOGGERS.register("tensorboard")
def _tensorboard(run_dir: Path, cfg):
    from lightning.pytorch.loggers import TensorBoardLogger

    return TensorBoardLogger(str(run_dir), name="tensorboard", version="")


def _keep_history(logger_cls: type) -> type:
    """A CSVLogger that keeps the rows already in ``logs/metrics.csv``: Lightning's deletes the
    file when its writer starts, so a resumed run lost the history from before the restart."""

    class HistoryCSVLogger(logger_cls):
        @property
        def experiment(self):
            if self._experiment is not None:
                return self._experiment
            path = Path(self.log_dir) / "metrics.csv"
            old = path.read_text(encoding="utf-8") if path.is_file() else ""
            with warnings.catch_warnings():  # "previous log files will be deleted": not so
                warnings.filterwarnings("ignore", message=".*will be deleted.*")
                writer = super().experiment  # deletes metrics.csv
            header = old.splitlines()[0].split(",") if old.strip() else []
            if header and hasattr(writer, "metrics_keys"):  # rank 0's real writer
                path.write_text(old, encoding="utf-8")  # new rows are appended after these
                writer.metrics_keys = header  # Lightning writes its header sorted
            return writer

    return HistoryCSVLogger


@LOGGERS.register("csv")
def _csv(run_dir: Path, cfg):
    from lightning.pytorch.loggers import CSVLogger

    return _keep_history(CSVLogger)(str(run_dir), name="logs", version="")


@LOGGERS.register("wandb")
def _wandb(run_dir: Path, cfg):
    _need("wandb", "wandb")
    from lightning.pytorch.loggers import WandbLogger

    return WandbLogger(project=cfg.project, name=run_dir.name, save_dir=str(run_dir),
                       offline=cfg.wandb_mode == "offline")


@LOGGERS.register("mlflow")
def _mlflow(run_dir: Path, cfg):
    _need("mlflow", "mlflow")
    from lightning.pytorch.loggers import MLFlowLogger

    uri = cfg.mlflow_uri or (Path(run_dir).resolve() / "mlruns").as_uri()
    return MLFlowLogger(experiment_name=cfg.project, run_name=run_dir.name, tracking_uri=uri)


def build_loggers(run_dir: Path, cfg) -> list:
    """Loggers named in ``cfg.loggers`` (a LoggingConfig); empty string -> none."""
    names = [n.strip() for n in cfg.loggers.split(",") if n.strip()]
    return [LOGGERS.build(n, run_dir=Path(run_dir), cfg=cfg) for n in names]
