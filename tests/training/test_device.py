"""Tests for device / precision / loader-default selection (dfdetect.training.device)."""
from __future__ import annotations

from pathlib import Path

import pytest

from dfdetect.training.device import DeviceError, DevicePlan, Probe, resolve_device

from fakes import FakeProbe  # tests/fakes.py


A10 = ("NVIDIA A10G", 24.0)
T4 = ("Tesla T4", 15.0)


def cpu_only(**kw) -> FakeProbe:
    return FakeProbe(**kw)


def one_gpu(**kw) -> FakeProbe:
    return FakeProbe(gpus=[A10], bf16=True, **kw)


def two_gpus(**kw) -> FakeProbe:
    return FakeProbe(gpus=[A10, ("NVIDIA L4", 22.5)], bf16=True, **kw)


# ---------------------------------------------------------------- accelerator choice


def test_auto_prefers_cuda_over_mps_over_cpu() -> None:
    assert resolve_device("auto", probe=FakeProbe(gpus=[A10], mps=True)).accelerator == "cuda"
    assert resolve_device("auto", probe=FakeProbe(mps=True)).accelerator == "mps"
    assert resolve_device("auto", probe=FakeProbe()).accelerator == "cpu"


def test_cpu_plan_and_message() -> None:
    plan = resolve_device("auto", probe=cpu_only(cpus=2, machine="x86_64"))
    assert isinstance(plan, DevicePlan)
    assert plan.accelerator == "cpu"
    assert plan.devices == 1
    assert plan.precision == "32-true"
    assert plan.message == "Using device: cpu (x86_64, 2 cores)"
    assert plan.torch_device == "cpu"


def test_mps_plan_and_message() -> None:
    plan = resolve_device("auto", probe=FakeProbe(mps=True, machine="arm64"))
    assert plan.accelerator == "mps"
    assert plan.devices == 1
    assert plan.message.startswith("Using device: mps (Apple Silicon GPU)")
    assert plan.precision == "32-true"
    assert plan.torch_device == "mps"


def test_cuda_plan_lists_gpu_name() -> None:
    plan = resolve_device("auto", probe=one_gpu())
    assert plan.accelerator == "cuda"
    assert plan.devices == [0]
    assert "Using device: cuda" in plan.message
    assert "NVIDIA A10G" in plan.message and "24 GB" in plan.message
    assert plan.torch_device == "cuda:0"


def test_explicit_cpu_on_a_gpu_machine() -> None:
    plan = resolve_device("cpu", probe=FakeProbe(gpus=[A10], mps=True))
    assert plan.accelerator == "cpu"
    assert plan.precision == "32-true"


@pytest.mark.parametrize("name", ["cuda", "CUDA", "gpu"])
def test_explicit_cuda_spellings(name: str) -> None:
    assert resolve_device(name, probe=one_gpu()).accelerator == "cuda"


def test_cuda_without_gpus_is_a_helpful_error() -> None:
    with pytest.raises(DeviceError) as info:
        resolve_device("cuda", probe=FakeProbe(mps=True))
    msg = str(info.value)
    assert "no CUDA GPU" in msg
    assert "nvidia-smi" in msg and "CUDA_VISIBLE_DEVICES" in msg and "device=auto" in msg


def test_gpus_without_gpus_is_an_error() -> None:
    with pytest.raises(DeviceError, match="no CUDA GPU"):
        resolve_device("auto", gpus="0", probe=cpu_only())


def test_mps_without_mps_is_an_error() -> None:
    with pytest.raises(DeviceError) as info:
        resolve_device("mps", probe=FakeProbe(gpus=[A10]))
    assert "MPS is not available" in str(info.value)


def test_unknown_device_name() -> None:
    with pytest.raises(DeviceError, match="device='tpu'"):
        resolve_device("tpu", probe=cpu_only())


# ---------------------------------------------------------------- GPU selection


def test_gpus_select_cuda_devices() -> None:
    plan = resolve_device("auto", gpus="0,1", probe=two_gpus())
    assert plan.accelerator == "cuda"
    assert plan.devices == [0, 1]
    assert "NVIDIA A10G" in plan.message and "NVIDIA L4" in plan.message
    assert plan.torch_device == "cuda:0"


def test_gpus_pick_one_and_spaces_are_fine() -> None:
    plan = resolve_device("cuda", gpus=" 1 ", probe=two_gpus())
    assert plan.devices == [1]
    assert plan.torch_device == "cuda:1"
    assert "NVIDIA L4" in plan.message and "A10G" not in plan.message
    assert resolve_device("auto", gpus="1, 0", probe=two_gpus()).devices == [1, 0]


def test_gpu_that_does_not_exist() -> None:
    with pytest.raises(DeviceError) as info:
        resolve_device("auto", gpus="3", probe=two_gpus())
    msg = str(info.value)
    assert "GPU 3" in msg and "2 visible" in msg


@pytest.mark.parametrize("gpus", ["a", "0;1", "0,x", "1.5"])
def test_gpus_not_integers(gpus: str) -> None:
    with pytest.raises(DeviceError, match="comma-separated GPU indices"):
        resolve_device("auto", gpus=gpus, probe=two_gpus())


def test_negative_gpu_index_is_rejected() -> None:
    with pytest.raises(DeviceError):
        resolve_device("auto", gpus="-1", probe=two_gpus())


# ---------------------------------------------------------------- precision


def test_precision_auto() -> None:
    assert resolve_device("auto", probe=one_gpu()).precision == "bf16-mixed"
    assert resolve_device("auto", probe=FakeProbe(gpus=[T4], bf16=False)).precision == "16-mixed"
    assert resolve_device("auto", probe=cpu_only()).precision == "32-true"
    assert resolve_device("auto", probe=FakeProbe(mps=True)).precision == "32-true"


@pytest.mark.parametrize("requested", ["32-true", "16-mixed", "bf16-mixed", "bf16-true"])
@pytest.mark.parametrize("probe", [cpu_only(), one_gpu(), FakeProbe(mps=True)],
                         ids=["cpu", "cuda", "mps"])
def test_explicit_precision_passes_through(requested: str, probe: FakeProbe) -> None:
    assert resolve_device("auto", precision=requested, probe=probe).precision == requested


def test_precision_32_means_32_true() -> None:
    assert resolve_device("auto", precision="32", probe=one_gpu()).precision == "32-true"
    assert resolve_device("cpu", precision="32", probe=cpu_only()).precision == "32-true"


@pytest.mark.parametrize("bad", ["fp16", "16", "64", "bf16", ""])
def test_invalid_precision(bad: str) -> None:
    with pytest.raises(DeviceError) as info:
        resolve_device("cpu", precision=bad, probe=cpu_only())
    assert f"precision='{bad}'" in str(info.value)
    assert "bf16-mixed" in str(info.value)  # lists valid choices


# ---------------------------------------------------------------- loader defaults


def test_batch_size_and_workers_depend_on_device() -> None:
    cpu = resolve_device("auto", probe=cpu_only(cpus=8))
    gpu = resolve_device("auto", probe=FakeProbe(gpus=[A10], bf16=True, cpus=8))
    assert cpu.batch_size < gpu.batch_size
    assert cpu.batch_size == 16 and gpu.batch_size == 64
    assert gpu.num_workers > cpu.num_workers
    assert 0 <= cpu.num_workers <= 4
    assert 1 <= gpu.num_workers <= 8


def test_small_gpu_gets_smaller_batch() -> None:
    small = resolve_device("auto", probe=FakeProbe(gpus=[("tiny", 8.0)]))
    assert small.batch_size == 32
    mixed = resolve_device("auto", gpus="0,1", probe=FakeProbe(gpus=[A10, ("tiny", 8.0)]))
    assert mixed.batch_size == 32  # the smallest selected GPU decides


@pytest.mark.parametrize("cpus", [1, 2, 4, 64])
def test_workers_stay_in_range(cpus: int) -> None:
    for probe in (cpu_only(cpus=cpus), FakeProbe(mps=True, cpus=cpus), two_gpus(cpus=cpus)):
        plan = resolve_device("auto", gpus="0,1" if probe.gpus else "", probe=probe)
        assert 0 <= plan.num_workers <= 8
        assert plan.num_workers < max(cpus, 2)
    assert resolve_device("auto", probe=cpu_only(cpus=1)).num_workers == 0


def test_torch_device_property() -> None:
    assert DevicePlan("cuda", [2, 3], "bf16-mixed", "", 64, 4).torch_device == "cuda:2"
    assert DevicePlan("cuda", 1, "bf16-mixed", "", 64, 4).torch_device == "cuda:0"
    assert DevicePlan("mps", 1, "32-true", "", 32, 2).torch_device == "mps"
    assert DevicePlan("cpu", 1, "32-true", "", 16, 2).torch_device == "cpu"


# ---------------------------------------------------------------- the real machine


def test_real_probe_on_this_machine_is_cpu() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        pytest.skip("this machine has Apple MPS")
    plan = resolve_device("auto")
    assert plan.accelerator == "cpu"
    assert plan.torch_device == "cpu"
    # The CPUs that run CI change between sessions: the rule, not one CPU's answer, is tested.
    native_bf16 = Probe().cpu_bf16()
    assert plan.precision == ("bf16-mixed" if native_bf16 else "32-true")
    assert ("native bf16" in plan.message) == native_bf16
    assert plan.message.startswith("Using device: cpu (")
    assert Probe().cpu_count() >= 1


# ---------------------------------------------------------------- precision notes (issue 4)


def test_cpu_with_native_bf16_uses_bf16_mixed() -> None:
    plan = resolve_device("cpu", probe=FakeProbe(cpu_bf16_units=True))
    assert plan.precision == "bf16-mixed"
    assert "native bf16" in plan.message


def test_mps_mixed_falls_back_to_fp32_with_a_message() -> None:
    plan = resolve_device("mps", precision="16-mixed", probe=FakeProbe(mps=True, mps_amp=False))
    assert plan.precision == "32-true"
    assert "needs MPS autocast" in plan.message
    ok = resolve_device("mps", precision="16-mixed", probe=FakeProbe(mps=True, mps_amp=True))
    assert ok.precision == "16-mixed"


def test_mps_says_what_happens_to_missing_kernels() -> None:
    off = resolve_device("mps", probe=FakeProbe(mps=True))
    assert "PYTORCH_ENABLE_MPS_FALLBACK=1" in off.message and "stop" in off.message
    on = resolve_device("mps", probe=FakeProbe(mps=True, mps_cpu_fallback=True))
    assert "run on the CPU" in on.message


def test_probe_bf16_agrees_with_the_kernel_cpu_flags() -> None:
    """An independent reading of the same fact: Linux's CPU flags (AVX512-BF16 or AMX-BF16)."""
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.is_file():
        pytest.skip("no /proc/cpuinfo on this system")
    flags: set[str] = set()
    for line in cpuinfo.read_text().splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[1].split())
    if not flags:
        pytest.skip("/proc/cpuinfo lists no flags (not x86)")
    assert Probe().cpu_bf16() == bool({"avx512_bf16", "amx_bf16"} & flags)


def test_onednn_isa_cap_below_bf16_counts_as_no_native_bf16(monkeypatch) -> None:
    """With oneDNN held to AVX2, bf16 runs emulated (17x slower, bench/precision.py): fp32."""
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    assert Probe().cpu_bf16() is False
    assert resolve_device("cpu").precision == "32-true"
