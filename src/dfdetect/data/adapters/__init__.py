"""Dataset adapters: each reads one dataset's own layout or index files and returns a manifest.

Adapters register by decorator; ``dfdetect prepare data=<name>`` looks them up here.

Example::

    m = build_manifest("folder", "/data/faces", real_label="real", fake_label="fake")
"""
from __future__ import annotations

from dfdetect.registry import Registry

ADAPTERS: Registry = Registry("dataset adapter")

IMAGE_EXTS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
VIDEO_EXTS = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v"})
AUDIO_EXTS = frozenset({".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a"})


def modality_of(suffix: str) -> str | None:
    """image / video / audio from a file suffix, None when it is none of these."""
    s = suffix.lower()
    if s in IMAGE_EXTS:
        return "image"
    if s in VIDEO_EXTS:
        return "video"
    if s in AUDIO_EXTS:
        return "audio"
    return None


def build_manifest(name: str, root: str, **options):
    """Run the adapter registered as ``name`` on ``root``."""
    _load_builtin()
    return ADAPTERS.build(name, root=root, **options)


def _load_builtin() -> None:
    # importing registers them; kept in a function so importing this package does no work
    from dfdetect.data.adapters import celebdf, dfdc, ffpp, folder, labels_csv  # noqa: F401
    from dfdetect.data.adapters import asvspoof, speech  # noqa: F401  (issue 6)
