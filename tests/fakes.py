"""Test doubles shared by several test files (on the test path: ``pythonpath = ["tests"]``)."""
from __future__ import annotations

from dataclasses import dataclass, field

from dfdetect.training.device import Probe


@dataclass
class FakeProbe(Probe):
    """Hardware as the test describes it; never asks torch."""

    gpus: list[tuple[str, float]] = field(default_factory=list)  # (name, memory GB)
    bf16: bool = False
    mps: bool = False
    cpus: int = 8
    machine: str = "x86_64"
    cpu_bf16_units: bool = False
    mps_amp: bool = True
    mps_cpu_fallback: bool = False

    def cpu_bf16(self) -> bool:
        return self.cpu_bf16_units

    def mps_autocast(self) -> bool:
        return self.mps_amp

    def mps_fallback(self) -> bool:
        return self.mps_cpu_fallback

    def cuda_count(self) -> int:
        return len(self.gpus)

    def cuda_name(self, index: int) -> str:
        return self.gpus[index][0]

    def cuda_memory_gb(self, index: int) -> float:
        return self.gpus[index][1]

    def cuda_bf16(self) -> bool:
        return self.bf16

    def mps_available(self) -> bool:
        return self.mps

    def cpu_count(self) -> int:
        return self.cpus

    def cpu_name(self) -> str:
        return self.machine
