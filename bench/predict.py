"""Predict throughput, PyTorch eager vs ONNX Runtime, measured in the same run.

Prints model-only images/s (one preprocessed batch through the network), images/s (decode +
preprocess + model, through ``Predictor.score`` on JPEG files) and videos/s (face crops already decoded, through ``VideoScorer``: the frame sampler and face
detector of ``dfdetect.preprocess`` are excluded, so this is the scoring part of a video), for
both backends, and the ONNX / PyTorch ratio. The model is untrained (speed does not depend on
the weights). Run: ``python bench/predict.py [--model timm:efficientnet_b0 --size 224]``.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def _checkpoint(folder: Path, model_name: str, size: int) -> Path:
    from dfdetect.checkpoint import make_checkpoint, save_checkpoint
    from dfdetect.models import build_model, preprocessing_of

    net = build_model(model_name, pretrained="false", num_classes=2).eval()
    pre = {"modality": "image", "image_size": size, **preprocessing_of(net)}
    ckpt = make_checkpoint(net, model_name=model_name, model_kwargs={"num_classes": 2},
                           preprocessing=pre, config={})
    return save_checkpoint(ckpt, folder / "bench.ckpt")


def _images(folder: Path, n: int, size: int) -> list[str]:
    from PIL import Image

    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        p = folder / f"img_{i:04d}.jpg"
        Image.fromarray((rng.random((size, size, 3)) * 255).astype(np.uint8)).save(p, quality=90)
        paths.append(str(p))
    return paths


def _interleaved(tasks: dict[tuple[str, str], tuple], repeat: int) -> dict[tuple[str, str], float]:
    """Items/s of each task, best of ``repeat`` rounds after a warm-up round.

    Each round runs every task once (torch and onnx alternate), so both backends see the same
    machine load; on a shared CPU a sequential "all torch, then all onnx" run is mostly noise.
    """
    best = {key: float("inf") for key in tasks}
    for round_ in range(repeat + 1):
        for key, (fn, _) in tasks.items():
            start = time.perf_counter()
            fn()
            if round_:  # round 0 is the warm-up
                best[key] = min(best[key], time.perf_counter() - start)
    return {key: tasks[key][1] / best[key] for key in tasks}


def run(args) -> dict:
    from dfdetect.config.schema import ExportConfig
    from dfdetect.inference.export import export
    from dfdetect.inference.onnx_backend import OnnxPredictor
    from dfdetect.inference.predictor import Predictor
    from dfdetect.inference.video import VideoScorer

    folder = Path(tempfile.mkdtemp(prefix="dfdetect_bench_"))
    ckpt = _checkpoint(folder, args.model, args.size)
    export(ExportConfig(ckpt=str(ckpt)), echo=lambda *_: None)
    paths = _images(folder, args.images, args.size)
    crops = [(i, (np.random.default_rng(i).random((args.size, args.size, 3)) * 255)
              .astype(np.uint8)) for i in range(args.frames)]
    videos = [f"v{i}.mp4" for i in range(args.videos)]
    backends = {"torch": Predictor.from_checkpoint(ckpt, "cpu", args.batch, 0),
                "onnx": OnnxPredictor.from_path(ckpt, args.batch, 0)}
    batch = torch.randn(args.batch, 3, args.size, args.size)
    tasks = {}
    for name, scorer in backends.items():
        vs = VideoScorer(scorer, lambda _path: crops, "mean")
        tasks[(name, "forward_per_s")] = (_no_grad(scorer.forward, batch), args.batch)
        tasks[(name, "images_per_s")] = (lambda s=scorer: list(s.score(paths)), len(paths))
        tasks[(name, "videos_per_s")] = (lambda v=vs: list(v.score(videos)), len(videos))
    rates = _interleaved(tasks, args.repeat)
    return {name: {metric: r for (n, metric), r in rates.items() if n == name}
            for name in backends}


def _no_grad(fn, *args):
    def call():
        with torch.inference_mode():
            fn(*args)
    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="timm:resnet18")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--images", type=int, default=96)
    parser.add_argument("--videos", type=int, default=6)
    parser.add_argument("--frames", type=int, default=16, help="face crops per video")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    res = run(args)
    print(f"model {args.model} at {args.size}px, batch {args.batch}, "
          f"{torch.get_num_threads()} threads, best of {args.repeat}")
    print(f"{'backend':<8} {'images/s':>10} {'videos/s':>10} {'model-only img/s':>17}   "
          f"({args.frames} crops per video)")
    for name, r in res.items():
        print(f"{name:<8} {r['images_per_s']:>10.1f} {r['videos_per_s']:>10.2f} "
              f"{r['forward_per_s']:>17.1f}")
    ratio = {k: res["onnx"][k] / res["torch"][k] for k in res["torch"]}
    print(f"ratio onnx/torch: images {ratio['images_per_s']:.2f}x · videos "
          f"{ratio['videos_per_s']:.2f}x · model only {ratio['forward_per_s']:.2f}x")


if __name__ == "__main__":
    main()
