"""One row per recipe for the machine this runs on: the device speed table (docs/benchmarks.md).

For each shipped recipe (its YAML: model, input size, options) it builds the model the way
``dfdetect train`` does and measures, on in-memory inputs of the recipe's shape:

- train samples/s: forward + loss + backward + AdamW step, under the precision ``precision=auto``
  picks here (bf16/fp16 autocast, with loss scaling for fp16), at the device's default batch size
  (what ``batch_size=0`` would pick: ``training/device.py``) unless ``--batch`` is given;
- predict items/s: model forward in fp32 under ``inference_mode`` (evaluate and predict always
  score in fp32), batches of ``--predict-batch``; images for face recipes, 4 s windows for audio;
- peak memory: CUDA ``max_memory_allocated`` per recipe; on a CPU the process's peak RSS so far
  (it only grows, so read it as "at most");
- ratio: each recipe's figures over the first recipe's, measured in the same run, so rows from two
  machines compare by ratio even when one was busier.

Decoding and augmentation are not included (``bench/data_pipeline.py`` measures those); the
weights are random (speed does not depend on them).

    PYTHONPATH=src python bench/devices.py                     # all three recipes, auto device
    PYTHONPATH=src python bench/devices.py --steps 3 --device cuda
    PYTHONPATH=src python bench/devices.py --recipes configs/cpu_quick.yaml
"""
from __future__ import annotations

import argparse
import contextlib
import os
import platform
import resource
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
RECIPES = ("configs/cpu_quick.yaml", "configs/faces_effnet_lite0_ft.yaml",
           "configs/audio/lcnn_lfcc.yaml")


def _setup(recipe: str):
    """(name, model, example input maker) as ``dfdetect train`` would build them."""
    from dfdetect.config.loader import load_config
    from dfdetect.config.schema import TrainConfig
    from dfdetect.modalities import get_modality
    from dfdetect.training.recipe import _build_model

    cfg = load_config(TrainConfig, [f"config={REPO / recipe}", "pretrained=false"])
    torch.manual_seed(0)
    model, _ = _build_model(cfg)
    modality = get_modality(getattr(model, "modality", "image"))
    prep = modality.preprocessing(cfg.data, model)
    g = torch.Generator().manual_seed(0)
    return cfg.name, model, lambda n: modality.example_input(prep, n, g)


def _autocast(plan):
    if plan.precision.startswith("bf16"):
        return torch.autocast(plan.accelerator, dtype=torch.bfloat16)
    if plan.precision.startswith("16"):
        return torch.autocast(plan.accelerator, dtype=torch.float16)
    return contextlib.nullcontext()


def _sync(plan) -> None:
    if plan.accelerator == "cuda":
        torch.cuda.synchronize()
    elif plan.accelerator == "mps":
        torch.mps.synchronize()


def _train_rate(model, example, plan, batch: int, steps: int) -> float:
    dev = plan.torch_device
    model = model.to(dev).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    scaler = torch.amp.GradScaler(enabled=plan.precision.startswith("16"))
    x, y = example(batch).to(dev), torch.randint(0, 2, (batch,)).to(dev)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        with _autocast(plan):
            loss = torch.nn.functional.cross_entropy(model(x).float(), y)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()

    step()  # warm-up: allocations, cuDNN autotune, oneDNN kernels
    _sync(plan)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(plan)
    return batch * steps / (time.perf_counter() - t0)


def _predict_rate(model, example, plan, batch: int, repeat: int) -> float:
    dev = plan.torch_device
    model = model.to(dev).eval()
    x = example(batch).to(dev)
    with torch.inference_mode():
        model(x)
        _sync(plan)
        t0 = time.perf_counter()
        for _ in range(repeat):
            model(x)
        _sync(plan)
    return batch * repeat / (time.perf_counter() - t0)


def _peak_memory_gb(plan) -> float:
    if plan.accelerator == "cuda":
        return torch.cuda.max_memory_allocated() / 2**30
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return rss / (2**30 if sys.platform == "darwin" else 2**20)


def _machine(plan) -> str:
    if plan.accelerator == "cuda":
        return torch.cuda.get_device_name(plan.torch_device)
    if plan.accelerator == "mps":
        return f"Apple {platform.machine()} GPU"
    from dfdetect.training.device import Probe

    name = platform.machine()
    with contextlib.suppress(OSError):
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        name = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")),
                    name)
    return f"{name}, {Probe().cpu_count()} cores"


def _load() -> str:
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except (AttributeError, OSError):
        return "n/a"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipes", default=",".join(RECIPES), help="comma-separated config files")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--precision", default="auto")
    ap.add_argument("--batch", type=int, default=0, help="train batch (0: the device default)")
    ap.add_argument("--predict-batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=4, help="timed train steps per recipe")
    ap.add_argument("--repeat", type=int, default=4, help="timed predict batches per recipe")
    args = ap.parse_args()

    from dfdetect.training.device import resolve_device

    plan = resolve_device(args.device, "", args.precision)
    batch = args.batch or plan.batch_size
    print(f"# {plan.message} · precision {plan.precision} · torch {torch.__version__} "
          f"({torch.get_num_threads()} threads) · default batch {plan.batch_size}, "
          f"workers {plan.num_workers} · load average {_load()}", flush=True)
    print("| device | machine | precision | recipe | train samples/s (batch) | ratio "
          "| predict items/s (fp32) | ratio | peak memory |")
    print("|---|---|---|---|---|---|---|---|---|")
    first: tuple[float, float] | None = None
    for recipe in [r.strip() for r in args.recipes.split(",") if r.strip()]:
        name, model, example = _setup(recipe)
        if plan.accelerator == "cuda":
            torch.cuda.reset_peak_memory_stats()
        train = _train_rate(model, example, plan, batch, args.steps)
        pred = _predict_rate(model, example, plan, args.predict_batch, args.repeat)
        first = first or (train, pred)
        mem = _peak_memory_gb(plan)
        kind = "RSS" if plan.accelerator == "cpu" else "allocated"
        print(f"| {plan.accelerator} | {_machine(plan)} | {plan.precision} | `{name}` "
              f"| {train:.1f} ({batch}) | {train / first[0]:.2f} | {pred:.1f} "
              f"| {pred / first[1]:.2f} | {mem:.2f} GB {kind} |", flush=True)
        del model


if __name__ == "__main__":
    main()
