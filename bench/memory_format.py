"""Does ``memory_format=auto`` (channels_last for image models) pay on this machine? Measure both.

For each model and input size, the same weights and the same in-memory batch go through
dfdetect's :class:`~dfdetect.training.module.DetectorModule` with ``channels_last=False`` and
``channels_last=True``: ``--steps`` training steps (forward, cross-entropy, backward, AdamW step)
and eval-mode scoring batches. Rounds alternate the two layouts so load on a shared machine hits
both alike; the best round of each counts. Prints images/s of each and the ratio
channels_last / contiguous (above 1: channels_last is faster), plus what ``auto`` picks here.

    python bench/memory_format.py [--models tf_efficientnet_lite0,resnet18] [--sizes 128,256]
                                  [--batch 32] [--steps 3] [--rounds 2] [--threads 0]
"""
from __future__ import annotations

import argparse
import time

import torch


def _module(name: str, channels_last: bool, state: dict | None):
    from dfdetect.config.schema import OptimConfig
    from dfdetect.models import build_model
    from dfdetect.training.module import DetectorModule

    net = build_model(f"timm:{name}", pretrained="false", num_classes=2)
    if state is not None:
        net.load_state_dict(state)
    return DetectorModule(net, OptimConfig(), channels_last=channels_last)


def _train_rate(module, x, y, steps: int) -> float:
    module.train()
    opt = torch.optim.AdamW(module.parameters(), lr=1e-4)
    loss = torch.nn.functional.cross_entropy(module(x), y)  # warm-up step (allocations, kernels)
    loss.backward()
    opt.step()
    t0 = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(module(x), y).backward()
        opt.step()
    return steps * x.shape[0] / (time.perf_counter() - t0)


@torch.no_grad()
def _predict_rate(module, x, steps: int) -> float:
    module.eval()
    module(x)
    t0 = time.perf_counter()
    for _ in range(steps):
        module(x)
    return steps * x.shape[0] / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="tf_efficientnet_lite0,resnet18")
    p.add_argument("--sizes", default="128,256")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from dfdetect.training.device import resolve_device, resolve_memory_format

    plan = resolve_device("auto")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"device {plan.accelerator}; memory_format=auto picks "
          f"{resolve_memory_format('auto', plan.accelerator, True)} for image models here")
    print(f"{'model':<24} {'px':>4} {'train contig':>13} {'train NHWC':>11} {'ratio':>6} "
          f"{'predict contig':>15} {'predict NHWC':>13} {'ratio':>6}  (images/s)")
    for name in args.models.split(","):
        torch.manual_seed(0)
        state = _module(name, False, None).model.state_dict()
        for size in (int(s) for s in args.sizes.split(",")):
            g = torch.Generator().manual_seed(size)
            x = torch.randn(args.batch, 3, size, size, generator=g)
            y = torch.randint(0, 2, (args.batch,), generator=g)
            best = {False: [0.0, 0.0], True: [0.0, 0.0]}
            for _ in range(args.rounds):
                for cl in (False, True):
                    m = _module(name, cl, state)  # same starting weights every time
                    best[cl][0] = max(best[cl][0], _train_rate(m, x, y, args.steps))
                    best[cl][1] = max(best[cl][1], _predict_rate(m, x, args.steps))
            (tc, pc), (tn, pn) = best[False], best[True]
            print(f"{name:<24} {size:>4} {tc:>13.1f} {tn:>11.1f} {tn / tc:>6.2f} "
                  f"{pc:>15.1f} {pn:>13.1f} {pn / pc:>6.2f}", flush=True)


if __name__ == "__main__":
    main()
