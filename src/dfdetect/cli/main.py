"""``dfdetect``: one entry point, thin sub-commands (parse -> config -> library call)."""
from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings

from dfdetect.__version__ import __version__
from dfdetect.cli.common import add_command

#: the exit status of every user error, at parse time or later (argparse's own is 2 as well)
USER_ERROR_STATUS = 2

EXAMPLES = {
    "demo": "  dfdetect demo\n  dfdetect demo out=/tmp/demo epochs=3",
    "train": ("  dfdetect train config=configs/faces_effb0.yaml data=data/faces/manifest.csv\n"
              "  dfdetect train data=/data/faces model=timm:resnet18 image_size=128 epochs=5 "
              "device=cpu"),
    "evaluate": ("  dfdetect evaluate ckpt=runs/demo/run/best.ckpt data=runs/demo/data/manifest.csv"
                 " split=test\n"
                 "  dfdetect evaluate ckpt=a.ckpt:0.7,b.ckpt:0.3 data=prepared.csv "
                 "aggregation=topk_mean topk=5 robustness=jpeg,blur,resize"),
    "predict": ("  dfdetect predict ckpt=runs/demo/run/best.ckpt input=photos/ out=submission.csv\n"
                "  dfdetect predict ckpt=best.ckpt input=face.jpg out=one.csv columns=id,score\n"
                "  dfdetect predict ckpt=best.ckpt input=videos/ out=scores.jsonl aggregation=max"),
    "serve": ("  dfdetect serve ckpt=runs/demo/run/best.ckpt\n"
              "  dfdetect serve ckpt=best.onnx backend=onnx host=0.0.0.0 port=8080 workers=2 "
              "max_upload_mb=200"),
    "compare": ("  dfdetect compare runs/a runs/b\n"
                "  dfdetect compare runs/a/eval runs/b/eval level=video out=compare.md"),
    "export": ("  dfdetect export ckpt=runs/demo/run/best.ckpt format=onnx\n"
               "  dfdetect predict ckpt=runs/demo/run/best.onnx backend=onnx input=photos/"),
    "prepare": ("  dfdetect prepare data=folder root=/data/faces out=data/faces/manifest.csv\n"
                "  dfdetect prepare data=labels_csv root=../shared/data/faces_flux/labels.csv "
                "out=data/flux/manifest.csv\n"
                "  dfdetect prepare data=ffpp root=/data/FaceForensics++ compression=c23 "
                "out=data/ffpp_c23 frames_per_video=32 num_workers=8 split_ratio=0.8\n"
                "  dfdetect prepare data=folder root=videos/ out=data/vids shard=0/4"),
    "merge": "  dfdetect merge root=data/ffpp_c23",
    "doctor": "  dfdetect doctor manifest=data/ffpp_c23/manifest.csv",
    "models": "  dfdetect models",
    "env": "  dfdetect env\n  dfdetect env format=json folder=/data min_free_gb=50",
}


def _commands():
    from dfdetect.cli import commands

    return commands.COMMANDS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dfdetect", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Deepfake detection from raw media to a scored submission.",
        epilog="Every command takes key=value options; `dfdetect <command> --help` lists them "
               "all.\nStart with `dfdetect demo` (offline, a few minutes on a CPU).")
    parser.add_argument("--version", action="version", version=f"dfdetect {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="command")
    for name, (cls, summary, _) in _commands().items():
        add_command(sub, name, cls, summary, EXAMPLES.get(name, ""))
    return parser


class _Formatter(logging.Formatter):
    """Plain text for dfdetect's own info lines; level and source for everything else."""

    def format(self, record: logging.LogRecord) -> str:
        if record.levelno == logging.INFO and record.name.startswith("dfdetect"):
            return record.getMessage()
        return f"{record.levelname.lower()}: {record.getMessage()} [{record.name}]"


def _setup_logging() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(_Formatter())
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    logging.getLogger("dfdetect").setLevel(logging.INFO)
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*LeafSpec.*")
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")


def _tolerant_streams() -> None:
    """Print any file name (undecodable bytes, lone surrogates) as escapes, never a crash."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # a stream that cannot be reconfigured: leave it
                pass


def _positional(cls: type, overrides: list[str]) -> list[str]:
    """Bare words -> ``<cls.POSITIONAL>=a,b`` for commands that take paths (compare)."""
    field = getattr(cls, "POSITIONAL", None)
    bare = [o for o in overrides if "=" not in o]
    if not field or not bare:
        return overrides
    return [o for o in overrides if "=" in o] + [f"{field}={','.join(bare)}"]


def _user_errors() -> tuple[type[BaseException], ...]:
    """The user-error types. Without torch (a broken install) only those that import without
    it, so that `dfdetect env` still runs and says what to install."""
    try:
        from dfdetect.errors import USER_ERRORS
    except ImportError:
        from dfdetect.config.loader import ConfigError
        from dfdetect.envcheck import EnvError

        return (ConfigError, EnvError, FileNotFoundError, PermissionError)
    return USER_ERRORS


def main(argv: list[str] | None = None) -> int:
    """Parse, load the command's config, run it. Exit status: 0 done, 2 any user error (a bad
    option or value, a missing or unreadable input, checkpoint or device; found while parsing
    or later, one line on stderr), 130 interrupted; a bug exits 1 with a traceback."""
    from dfdetect.config.loader import ConfigError, load_config

    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    cls, _, run = _commands()[args.command]
    prog = f"dfdetect {args.command}"
    try:
        cfg = load_config(cls, _positional(cls, args.overrides)) if cls else None
    except ConfigError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return USER_ERROR_STATUS
    _setup_logging()
    _tolerant_streams()
    user_errors = _user_errors()
    try:
        run(cfg)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except user_errors as e:
        if args.debug:
            raise
        print(f"{prog}: error: {e}", file=sys.stderr)
        return USER_ERROR_STATUS
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
