"""The config error type, on its own so every config module can raise it without cycles."""
from __future__ import annotations


class ConfigError(ValueError):
    """A config problem a person can fix; the message names the key, file or value."""
