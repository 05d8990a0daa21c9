"""Should ``precision=auto`` pick bf16-mixed or fp32 on this CPU? Measure both in one run.

Three measurements, each with fp32 and bf16-mixed side by side in the same process:

1. **Train speed**: the same timm model (same initial weights, same in-memory batches) trained
   for ``--steps`` optimizer steps in fp32 and under ``torch.autocast("cpu", torch.bfloat16)``
   (what Lightning's ``bf16-mixed`` does on a CPU). Rounds alternate fp32 / bf16 so load on a
   shared machine hits both sides alike; the best round of each counts.
2. **Predict speed**: the same model in eval mode scoring batches, fp32 against bf16 autocast.
3. **Cost in AUC** (skip with ``--no-auc``): the demo's face set and training recipe
   (ResNet-18 from scratch with the demo's settings, same seed) trained once per precision through
   dfdetect's own ``train``, then evaluated on the demo's held-out test identities.

Prints samples/s, the ratio bf16 / fp32 (above 1: bf16 is faster) and the test AUC of both, plus
what this CPU reports (AVX512-BF16 / AMX) and what ``precision=auto`` picks on it.

``--emulate-no-bf16`` repeats the speed part in a child process with ``ONEDNN_MAX_CPU_ISA=AVX2``:
oneDNN then runs what a CPU without native bf16 runs, so one machine shows both sides of the rule.

    python bench/precision.py [--model resnet18] [--size 64] [--batch 16] [--steps 12]
                              [--rounds 3] [--no-auc] [--epochs 10]
"""
from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import torch


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _model(name: str):
    from dfdetect.models import build_model

    torch.manual_seed(0)
    return build_model(f"timm:{name}", pretrained="false")


def _batches(n: int, batch: int, size: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(0)
    return [(torch.randn(batch, 3, size, size, generator=g),
             torch.randint(0, 2, (batch,), generator=g)) for _ in range(n)]


def train_rate(model_name: str, data, bf16: bool, warmup: int = 2) -> float:
    """Training samples/s over ``data`` after ``warmup`` steps (AdamW, cross-entropy)."""
    model = _model(model_name).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    t0, seen = None, 0
    for step, (x, y) in enumerate(data):
        if step == warmup:
            t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        if t0 is not None:
            seen += len(y)
    return seen / (time.perf_counter() - t0)


@torch.inference_mode()
def predict_rate(model, data, bf16: bool, warmup: int = 2) -> float:
    """Inference samples/s of ``model`` (eval mode) over ``data``."""
    t0, seen = None, 0
    for step, (x, _) in enumerate(data):
        if step == warmup:
            t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            model(x).float().softmax(-1)
        if t0 is not None:
            seen += len(x)
    return seen / (time.perf_counter() - t0)


def speed(args) -> dict:
    train_data = _batches(args.steps + 2, args.batch, args.size)
    pred_data = _batches(args.steps + 2, args.batch * 4, args.size)
    eval_model = _model(args.model).eval()
    best = {"train_fp32": 0.0, "train_bf16": 0.0, "predict_fp32": 0.0, "predict_bf16": 0.0}
    for r in range(args.rounds):
        for bf16 in (False, True) if r % 2 == 0 else (True, False):
            tag = "bf16" if bf16 else "fp32"
            t = train_rate(args.model, train_data, bf16)
            p = predict_rate(eval_model, pred_data, bf16)
            best[f"train_{tag}"] = max(best[f"train_{tag}"], t)
            best[f"predict_{tag}"] = max(best[f"predict_{tag}"], p)
            print(f"  round {r + 1} {tag}: train {t:7.1f} samples/s · predict {p:7.1f} "
                  "images/s", flush=True)
    return best


def auc(args, precision: str, manifest: Path, out: Path) -> float | None:
    """Test AUC of the demo recipe trained at ``precision`` (same seed for both)."""
    from dfdetect.config.schema import DemoConfig, EvaluateConfig
    from dfdetect.demo.run import _train_config
    from dfdetect.evaluation.evaluate import evaluate
    from dfdetect.training.recipe import train

    demo = DemoConfig(out=str(out), epochs=args.epochs, device="cpu", model="timm:resnet18",
                      pretrained="false")
    cfg = _train_config(demo, manifest)
    cfg.name, cfg.trainer.precision, cfg.trainer.progress = f"prec_{precision}", precision, False
    t0 = time.perf_counter()
    result = train(cfg, echo=lambda *_: None)
    ev = evaluate(EvaluateConfig(ckpt=str(result.best_ckpt), data=str(manifest), split="test",
                                 device="cpu", out=str(out / f"eval_{precision}")),
                  echo=lambda *_: None)
    value = ev.metrics.get("auc")
    print(f"  {precision:>10}: test AUC {value} · trained in {time.perf_counter() - t0:.0f} s",
          flush=True)
    return value


def _emulated(args) -> None:
    """The speed part again in a child process whose oneDNN may use AVX2 at most."""
    import os
    import subprocess
    import sys

    print("Speed with ONEDNN_MAX_CPU_ISA=AVX2 (a CPU without native bf16, emulated):", flush=True)
    # emulated bf16 is ~17x slower: fewer steps and rounds keep this part to a few minutes
    cmd = [sys.executable, __file__, "--no-auc", "--model", args.model, "--size", str(args.size),
           "--batch", str(args.batch), "--steps", str(min(args.steps, 6)),
           "--rounds", str(min(args.rounds, 2))]
    subprocess.run(cmd, env={**os.environ, "ONEDNN_MAX_CPU_ISA": "AVX2"}, check=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="resnet18")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--steps", type=int, default=12)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=10, help="demo training epochs for the AUC part")
    p.add_argument("--no-auc", action="store_true", help="skip the demo-set AUC comparison")
    p.add_argument("--emulate-no-bf16", action="store_true",
                   help="also time both precisions with oneDNN held to AVX2 (no native bf16)")
    args = p.parse_args()

    from dfdetect.training.device import Probe, resolve_device

    probe = Probe()
    print(f"CPU: {_cpu_model()} · {probe.cpu_count()} cores · torch {torch.__version__} "
          f"({torch.get_num_threads()} threads) · native bf16 (AVX512-BF16/AMX): "
          f"{probe.cpu_bf16()} · precision=auto picks {resolve_device('cpu').precision}")
    print(f"Speed: timm {args.model}, {args.size} px, batch {args.batch} (predict "
          f"{args.batch * 4}), {args.steps} timed steps, {args.rounds} interleaved rounds")
    s = speed(args)
    print(f"train   : fp32 {s['train_fp32']:.1f} · bf16-mixed {s['train_bf16']:.1f} samples/s"
          f" · ratio bf16/fp32 {s['train_bf16'] / s['train_fp32']:.2f}")
    print(f"predict : fp32 {s['predict_fp32']:.1f} · bf16-mixed {s['predict_bf16']:.1f} "
          f"images/s · ratio bf16/fp32 {s['predict_bf16'] / s['predict_fp32']:.2f}")
    if args.emulate_no_bf16:
        _emulated(args)
    if args.no_auc:
        return
    from dfdetect.demo.faces import build_demo_faces
    from dfdetect.data.manifest import group_split, read_manifest, write_manifest

    with tempfile.TemporaryDirectory() as tmp:
        print(f"AUC: the demo face set (images only), {args.epochs} epochs, seed 0, "
              "test split (held-out identities)")
        manifest = build_demo_faces(Path(tmp) / "data", size=64, variants=2, seed=0)
        m = read_manifest(manifest)
        m.samples = group_split(m.samples, (0.6, 0.2, 0.2), seed=0)
        write_manifest(m, manifest)
        a32 = auc(args, "32-true", manifest, Path(tmp))
        abf = auc(args, "bf16-mixed", manifest, Path(tmp))
        if a32 is not None and abf is not None:
            print(f"AUC cost of bf16-mixed: {a32 - abf:+.4f} (fp32 {a32:.4f}, bf16 {abf:.4f})")


if __name__ == "__main__":
    main()
