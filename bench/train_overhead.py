"""What does dfdetect's training engine cost over a bare PyTorch loop?

Trains the same timm model (same initial weights) on the same in-memory tensors for the same
number of steps twice in one process: once with a bare ``for batch: forward, loss, backward,
step`` loop, once through dfdetect (DetectorModule + the recipe's Trainer settings: callbacks
for checkpoints, resume state, progress lines, per-step lr logging). Prints samples/s for both
and the ratio dfdetect / bare (target >= 0.98). Rounds alternate and the best round of each
counts, so a noisy shared machine penalises neither side.

    python bench/train_overhead.py [--model resnet18] [--size 64] [--batch 16] [--steps 30]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset


class InMemory(Dataset):
    """Pre-made image tensors in the batch contract ({input, target, index})."""

    def __init__(self, n: int, size: int) -> None:
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, 3, size, size, generator=g)
        self.y = torch.randint(0, 2, (n,), generator=g)

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, key) -> dict:
        i = key[0] if isinstance(key, tuple) else key  # EpochSampler draws are (row, seed)
        return {"input": self.x[i], "target": self.y[i], "index": i}


def _model(name: str):
    from dfdetect.models import build_model

    torch.manual_seed(0)
    return build_model(f"timm:{name}", pretrained="false")


def bare(args, data: InMemory) -> float:
    """Samples/s of a plain loop, timed after ``warmup`` steps."""
    model = _model(args.model).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    loss_fn = torch.nn.CrossEntropyLoss()
    loader = DataLoader(data, batch_size=args.batch, shuffle=True, drop_last=True)
    step, t0 = 0, None
    while step < args.steps + args.warmup:
        for batch in loader:
            if step == args.warmup:
                t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(batch["input"]), batch["target"])
            loss.backward()
            opt.step()
            step += 1
            if step == args.steps + args.warmup:
                break
    return args.steps * args.batch / (time.perf_counter() - t0)


class _Clock:
    """Lightning callback timing the steps after the warm-up."""

    def __init__(self, warmup: int) -> None:
        import lightning as L

        class Cb(L.Callback):
            def on_train_batch_start(cb, trainer, *a) -> None:  # noqa: N805
                if trainer.global_step == warmup and self.t0 is None:
                    self.t0 = time.perf_counter()

            def on_train_batch_end(cb, trainer, *a) -> None:  # noqa: N805
                self.t1 = time.perf_counter()  # steady-state steps; the run-end save is not a step

        self.t0 = self.t1 = None
        self.callback = Cb()


def dfdetect_run(args, data: InMemory) -> float:
    """Samples/s through DetectorModule and the recipe's Trainer (callbacks included)."""
    from dfdetect.config.loader import load_config
    from dfdetect.config.schema import TrainConfig
    from dfdetect.data.sampling import EpochSampler
    from dfdetect.losses import build_loss
    from dfdetect.training.device import resolve_device
    from dfdetect.training.module import DetectorModule
    from dfdetect.training.recipe import _trainer
    from dfdetect.training.progress import LineProgress
    from dfdetect.training.resume import ResumeState

    with tempfile.TemporaryDirectory() as tmp:
        cfg = load_config(TrainConfig, ["device=cpu", "progress=false", "epochs=1000",
                                        f"max_steps={args.steps + args.warmup}",
                                        "scheduler=none", "log_every_n_steps=50"])
        sampler = EpochSampler(data.y.tolist(), [0] * len(data), seed=0)
        clock = _Clock(args.warmup)
        cbs = [ResumeState(Path(tmp), sampler, args.batch), clock.callback,
               LineProgress("cpu", 10**9, echo=lambda *_: None)]
        trainer = _trainer(cfg, resolve_device("cpu"), cbs, [], Path(tmp), len(data))
        module = DetectorModule(_model(args.model), cfg.optim, build_loss(cfg.loss))
        loader = DataLoader(data, batch_size=args.batch, sampler=sampler, drop_last=True)
        trainer.limit_val_batches = 0
        trainer.fit(module, train_dataloaders=loader)
    return args.steps * args.batch / (clock.t1 - clock.t0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="resnet18")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--rounds", type=int, default=2)
    args = p.parse_args()
    # one epoch longer than the timed window: the per-epoch resume-state save (a checkpoint
    # write, measured and documented separately) must not fall inside the per-step comparison
    data = InMemory(args.batch * (args.steps + args.warmup + 2), args.size)
    results = {"bare": [], "dfdetect": []}
    for _ in range(args.rounds):
        results["bare"].append(bare(args, data))
        results["dfdetect"].append(dfdetect_run(args, data))
    b, d = max(results["bare"]), max(results["dfdetect"])
    print(f"model timm:{args.model} · {args.size}px · batch {args.batch} · {args.steps} timed "
          f"steps · {torch.get_num_threads()} threads · best of {args.rounds} rounds")
    print(f"bare PyTorch loop : {b:8.1f} samples/s  (rounds: "
          f"{', '.join(f'{v:.1f}' for v in results['bare'])})")
    print(f"dfdetect          : {d:8.1f} samples/s  (rounds: "
          f"{', '.join(f'{v:.1f}' for v in results['dfdetect'])})")
    print(f"ratio dfdetect/bare: {d / b:.3f}  (target >= 0.98)")


if __name__ == "__main__":
    main()
