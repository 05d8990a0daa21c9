"""The device layer: one place decides CUDA / Apple MPS / CPU, precision and loader defaults.

Selection reads the hardware through a :class:`Probe`, so tests pass a fake probe and no test
needs a GPU. ``precision=auto`` means mixed precision on CUDA (bf16 where the GPU supports it,
else fp16 with loss scaling), bf16 on a CPU with native bf16 units (AVX512-BF16 or AMX) and fp32
elsewhere. Measured with ``bench/precision.py`` (resnet18, 64 px, batch 16, 2-core AMD EPYC with
AVX512-BF16): bf16-mixed trains at 1.03x and predicts at 1.39x the speed of fp32; with oneDNN held
to AVX2 (what a CPU without native bf16 runs) bf16-mixed trains at 0.06x (17x slower) and predicts
at 0.04x. Inference (evaluate, predict) always runs in fp32, so scores do not depend on the CPU. On Apple MPS, mixed precision is used only when
asked for and the torch build supports MPS autocast; otherwise fp32, and the plan's message says
so, as it says what happens to operations that have no MPS kernel.

Example::

    plan = resolve_device("auto")
    log.info(plan.message)     # "Using device: cpu (x86_64, 2 cores)"
"""
from __future__ import annotations

import logging
import os
import platform
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

PRECISIONS = ("auto", "32", "32-true", "16-mixed", "bf16-mixed", "bf16-true")
DEVICES = ("auto", "cpu", "cuda", "gpu", "mps")  # gpu is an alias of cuda
MEMORY_FORMATS = ("auto", "channels_last", "contiguous")
#: oneDNN ISA caps that still include native bf16 instructions (``ONEDNN_MAX_CPU_ISA``)
ONEDNN_BF16_ISAS = frozenset({"ALL", "DEFAULT", "AVX512_CORE_BF16", "AVX512_CORE_AMX",
                              "AVX512_CORE_AMX_FP16", "AVX10_1_512", "AVX10_1_512_AMX",
                              "AVX10_1_512_AMX_FP16", "AVX10_2_512", "AVX10_2_512_AMX_2"})


class DeviceError(ValueError):
    """A device request this machine cannot satisfy."""


class Probe:
    """What the machine has; the real implementation asks torch."""

    def cuda_count(self) -> int:
        import torch

        return torch.cuda.device_count() if torch.cuda.is_available() else 0

    def cuda_name(self, index: int) -> str:
        import torch

        return torch.cuda.get_device_name(index)

    def cuda_memory_gb(self, index: int) -> float:
        import torch

        return torch.cuda.get_device_properties(index).total_memory / 2**30

    def cuda_bf16(self) -> bool:
        import torch

        return bool(torch.cuda.is_bf16_supported())

    def mps_available(self) -> bool:
        import torch

        backend = getattr(torch.backends, "mps", None)
        return bool(backend and backend.is_available())

    def cpu_bf16(self) -> bool:
        """Native bf16 matrix units (AVX512-BF16 or AMX) make CPU bf16 autocast worthwhile.

        ``ONEDNN_MAX_CPU_ISA`` below AVX512_CORE_BF16 hides those units from oneDNN (bf16 then
        runs emulated, ~17x slower: ``bench/precision.py --emulate-no-bf16``), so it counts as
        absent."""
        import torch

        isa = os.environ.get("ONEDNN_MAX_CPU_ISA", "").strip().upper()
        if isa and isa not in ONEDNN_BF16_ISAS:
            return False
        cpu = torch.cpu
        checks = [getattr(cpu, n, None) for n in ("_is_avx512_bf16_supported",
                                                   "_is_amx_tile_supported")]
        return any(bool(c()) for c in checks if c is not None)

    def mps_autocast(self) -> bool:
        """Whether this torch build runs autocast on MPS (torch >= 2.5)."""
        import torch

        major, minor = (int(v) for v in torch.__version__.split(".")[:2])
        return (major, minor) >= (2, 5)

    def mps_fallback(self) -> bool:
        """``PYTORCH_ENABLE_MPS_FALLBACK=1``: ops without an MPS kernel run on the CPU."""
        return os.environ.get("PYTORCH_ENABLE_MPS_FALLBACK", "") == "1"

    def cpu_count(self) -> int:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1)

    def cpu_name(self) -> str:
        return platform.machine() or "cpu"


@dataclass
class DevicePlan:
    """The resolved choice, ready for Lightning's Trainer and for plain inference."""

    accelerator: str  # cpu | cuda | mps
    devices: list[int] | int
    precision: str  # Lightning precision string
    message: str
    batch_size: int
    num_workers: int
    extras: dict = field(default_factory=dict)

    @property
    def torch_device(self) -> str:
        """Device string for single-process inference (first selected GPU)."""
        if self.accelerator == "cuda":
            first = self.devices[0] if isinstance(self.devices, list) else 0
            return f"cuda:{first}"
        return self.accelerator


def _parse_gpus(gpus: str) -> list[int]:
    try:
        ids = [int(g) for g in str(gpus).replace(" ", "").split(",") if g != ""]
    except ValueError:
        ids = [-1]
    if any(i < 0 for i in ids) or len(set(ids)) != len(ids):
        raise DeviceError(f"gpus='{gpus}' must be distinct, comma-separated GPU indices like 0,1")
    return ids


def _pick_accelerator(device: str, gpu_ids: list[int], probe: Probe) -> str:
    device = device.lower()
    if device not in DEVICES:
        raise DeviceError(f"device='{device}' is not one of auto, cpu, cuda, mps")
    if gpu_ids and device in ("auto", "gpu"):
        device = "cuda"
    if device == "gpu":
        device = "cuda"
    if device == "auto":
        if probe.cuda_count() > 0:
            return "cuda"
        return "mps" if probe.mps_available() else "cpu"
    if device == "cuda" and probe.cuda_count() == 0:
        raise DeviceError("device=cuda was asked for but no CUDA GPU is visible "
                          "(check nvidia-smi and CUDA_VISIBLE_DEVICES, or use device=auto)")
    if device == "mps" and not probe.mps_available():
        raise DeviceError("device=mps was asked for but Apple MPS is not available "
                          "(needs macOS 12.3+ on Apple silicon and an MPS-enabled torch)")
    return device


def _precision(accelerator: str, requested: str, probe: Probe) -> tuple[str, list[str]]:
    """The Lightning precision string plus notes the user should read."""
    req = str(requested)
    if req not in PRECISIONS:
        raise DeviceError(f"precision='{req}' is not one of {', '.join(PRECISIONS)}")
    notes: list[str] = []
    if accelerator == "mps":
        notes.append("ops without an MPS kernel run on the CPU (PYTORCH_ENABLE_MPS_FALLBACK=1)"
                     if probe.mps_fallback() else
                     "ops without an MPS kernel stop with NotImplementedError; start with "
                     "PYTORCH_ENABLE_MPS_FALLBACK=1 to run them on the CPU instead")
        if req.endswith("mixed") and not probe.mps_autocast():
            notes.append(f"precision={req} needs MPS autocast (torch >= 2.5); using 32-true")
            return "32-true", notes
    if req == "32":
        return "32-true", notes
    if req != "auto":
        return req, notes
    if accelerator == "cuda":
        return ("bf16-mixed" if probe.cuda_bf16() else "16-mixed"), notes
    if accelerator == "cpu" and probe.cpu_bf16():
        notes.append("CPU has native bf16 (AVX512-BF16/AMX): bf16-mixed")
        return "bf16-mixed", notes
    return "32-true", notes  # CPU without bf16 units: autocast is far slower; MPS: fp32 safest


def _plan(acc: str, devices, precision: str, probe: Probe, message: str, batch: int,
          workers: int) -> DevicePlan:
    prec, notes = _precision(acc, precision, probe)
    full = message + "".join(f" · {n}" for n in notes)
    return DevicePlan(acc, devices, prec, full, batch, workers, {"notes": notes})


def resolve_device(device: str = "auto", gpus: str = "", precision: str = "auto",
                   probe: Probe | None = None) -> DevicePlan:
    """Choose accelerator, devices, precision and default batch size / workers."""
    probe = probe or Probe()
    gpu_ids = _parse_gpus(gpus)
    acc = _pick_accelerator(device, gpu_ids, probe)
    cpus = probe.cpu_count()
    if acc == "cuda":
        count = probe.cuda_count()
        bad = [g for g in gpu_ids if g >= count]
        if bad:
            raise DeviceError(f"gpus={gpus}: GPU {bad[0]} does not exist ({count} visible)")
        ids = gpu_ids or [0]
        names = ", ".join(f"{i}: {probe.cuda_name(i)} {probe.cuda_memory_gb(i):.0f} GB" for i in ids)
        mem = min(probe.cuda_memory_gb(i) for i in ids)
        return _plan("cuda", ids, precision, probe, f"Using device: cuda ({names})",
                     64 if mem >= 16 else 32, min(8, max(1, cpus // max(1, len(ids)) - 1)))
    if acc == "mps":
        return _plan("mps", 1, precision, probe, "Using device: mps (Apple Silicon GPU)", 32,
                     min(4, max(0, cpus - 2)))
    return _plan("cpu", 1, precision, probe, f"Using device: cpu ({probe.cpu_name()}, {cpus} cores)",
                 16, min(4, max(0, cpus - 1)))


def resolve_memory_format(requested: str, accelerator: str, spatial_input: bool) -> str:
    """``channels_last`` or ``contiguous`` for ``memory_format=<requested>``.

    ``auto`` picks channels_last for image models on CPU and CUDA, where oneDNN and cuDNN run
    NHWC convolutions faster (measured on a 2-core CPU, EfficientNet-Lite0 training steps:
    1.35x at 128 px, 1.5x at 256 px; ResNet-18 1.04-1.17x; ``bench/memory_format.py``), and
    contiguous for audio models (their 2-D features are made inside the model) and on MPS,
    whose NHWC kernels have had correctness bugs across PyTorch releases. An explicit value is used as it is.
    """
    req = (requested or "auto").strip().lower()
    if req not in MEMORY_FORMATS:
        raise DeviceError(f"memory_format='{requested}' is not one of {', '.join(MEMORY_FORMATS)}")
    if req != "auto":
        return req
    return "channels_last" if spatial_input and accelerator in ("cpu", "cuda") else "contiguous"
