"""The errors that mean "the input or the request is wrong" (not a bug in dfdetect).

The CLI prints these as one line and exits non-zero; anything else is a bug and shows a traceback.
"""
from __future__ import annotations


def _user_errors() -> tuple[type[BaseException], ...]:
    from dfdetect.checkpoint import CheckpointError
    from dfdetect.config.loader import ConfigError
    from dfdetect.data.media import DecodeError
    from dfdetect.data.manifest import ManifestError
    from dfdetect.envcheck import EnvError
    from dfdetect.inference.export import ExportError
    from dfdetect.inference.predict import InputError
    from dfdetect.models import ModelError
    from dfdetect.preprocess import PrepareError
    from dfdetect.registry import RegistryError
    from dfdetect.training.device import DeviceError

    return (CheckpointError, ConfigError, DecodeError, ManifestError, InputError, ExportError,
            ModelError, RegistryError, DeviceError, PrepareError, EnvError, FileNotFoundError,
            PermissionError)


USER_ERRORS = _user_errors()
