"""Video -> sampled frames -> face crops (issue 3).

``frames`` reads frames with PyAV, ``faces`` detects faces and picks the main face track,
``crops`` cuts and writes the square crops, ``video`` turns one video into crop rows and
``run`` drives a whole dataset (workers, shards, resume, failures, summary).
"""
from __future__ import annotations


class PrepareError(RuntimeError):
    """A video could not be used (or the request cannot run); ``stage`` says where it failed.

    The message names the file and the reason, so ``failures.csv`` and the CLI can show it as is.
    """

    def __init__(self, message: str, stage: str = "prepare") -> None:
        super().__init__(message)
        self.stage = stage
