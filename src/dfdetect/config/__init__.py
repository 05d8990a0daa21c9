"""Typed configs and their loading (see :mod:`dfdetect.config.schema`)."""
from dfdetect.config.loader import ConfigError, load_config, save_yaml, to_dict, from_dict
from dfdetect.config.schema import (
    DataConfig,
    DemoConfig,
    EvaluateConfig,
    ModelConfig,
    OptimConfig,
    PredictConfig,
    PrepareConfig,
    TrainConfig,
    TrainerConfig,
)

__all__ = [
    "ConfigError", "load_config", "save_yaml", "to_dict", "from_dict",
    "DataConfig", "DemoConfig", "EvaluateConfig", "ModelConfig", "OptimConfig",
    "PredictConfig", "PrepareConfig", "TrainConfig", "TrainerConfig",
]
