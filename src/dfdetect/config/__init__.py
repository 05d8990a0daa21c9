"""Typed configs and their loading (see :mod:`dfdetect.config.schema`)."""
from dfdetect.config.loader import ConfigError, load_config, save_yaml, to_dict, from_dict
from dfdetect.config.schema import (
    CompareConfig,
    DataConfig,
    DemoConfig,
    EvaluateConfig,
    ExportConfig,
    ModelConfig,
    OptimConfig,
    PredictConfig,
    PrepareConfig,
    TrainConfig,
    TrainerConfig,
)

__all__ = [
    "ConfigError", "load_config", "save_yaml", "to_dict", "from_dict",
    "CompareConfig", "DataConfig", "DemoConfig", "EvaluateConfig", "ExportConfig", "ModelConfig", "OptimConfig",
    "PredictConfig", "PrepareConfig", "TrainConfig", "TrainerConfig",
]
