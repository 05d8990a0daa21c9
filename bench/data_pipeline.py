"""Does the data pipeline keep the model fed?

Trains the same model for the same steps through dfdetect twice in one process:

* **pipeline**: the real DetectorDataModule on JPEG face crops (decode with PIL, albumentations
  augmentation: crop, flip, jitter, rotation, JPEG re-compression), with the device's default
  number of loader workers;
* **memory**: the same number of batches, already decoded and transformed, held as tensors.

Prints samples/s for both and the ratio pipeline / memory (target >= 0.95: the data never
starves the model). Uses the offline demo faces, so it needs no dataset.

    python bench/data_pipeline.py [--model resnet18] [--size 128] [--batch 16] [--steps 30]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader


class _Timer:
    """Lightning callback: time from the end of the warm-up to the end of training."""

    def __new__(cls, warmup: int):
        import lightning as L

        class Timer(L.Callback):
            t0 = t1 = None

            def on_train_batch_start(self, trainer, *a) -> None:
                if trainer.global_step == warmup and self.t0 is None:
                    self.t0 = time.perf_counter()

            def on_train_batch_end(self, trainer, *a) -> None:
                self.t1 = time.perf_counter()  # steady-state steps, not the run-end save

        return Timer()


def _fit(args, module_factory, loader, tmp: Path) -> float:
    from dfdetect.config.loader import load_config
    from dfdetect.config.schema import TrainConfig
    from dfdetect.training.device import resolve_device
    from dfdetect.training.recipe import _trainer

    cfg = load_config(TrainConfig, ["device=cpu", "progress=false", "epochs=1000",
                                    f"max_steps={args.steps + args.warmup}", "scheduler=none"])
    timer = _Timer(args.warmup)
    trainer = _trainer(cfg, resolve_device("cpu"), [timer], [], tmp, 10)
    trainer.limit_val_batches = 0
    trainer.fit(module_factory(), train_dataloaders=loader)
    return args.steps * args.batch / (timer.t1 - timer.t0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="resnet18")
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--workers", type=int, default=-1, help="-1: the device default")
    args = p.parse_args()

    from dfdetect.config.schema import AugmentConfig, DataConfig, OptimConfig
    from dfdetect.data.datamodule import DetectorDataModule
    from dfdetect.data.load import open_dataset
    from dfdetect.demo.faces import build_demo_faces
    from dfdetect.modalities import get_modality
    from dfdetect.models import build_model, preprocessing_of
    from dfdetect.training.device import resolve_device
    from dfdetect.training.module import DetectorModule

    def module():
        torch.manual_seed(0)
        return DetectorModule(build_model(f"timm:{args.model}"), OptimConfig())

    plan = resolve_device("cpu")
    workers = plan.num_workers if args.workers < 0 else args.workers
    with tempfile.TemporaryDirectory() as tmp:
        manifest = open_dataset(str(build_demo_faces(Path(tmp) / "faces", size=args.size * 2,
                                                     variants=2, seed=0)))
        prep = {"modality": "image", "image_size": args.size,
                **preprocessing_of(build_model(f"timm:{args.model}"))}
        augment = AugmentConfig(rotate_p=0.3, jpeg_p=0.3)
        dm = DetectorDataModule(manifest, prep, modality=get_modality("image"),
                                batch_size=args.batch, num_workers=workers, augment=augment)
        real = _fit(args, module, dm.train_dataloader(), Path(tmp))
        batches = []
        for batch in dm.train_dataloader():
            batches.append(batch)
            if len(batches) == args.steps + args.warmup:
                break
        in_memory = DataLoader(batches * 2, batch_size=None)
        memory = _fit(args, module, in_memory, Path(tmp))
    print(f"model timm:{args.model} · {args.size}px · batch {args.batch} · {args.steps} timed "
          f"steps · {workers} loader worker(s) · {len(manifest)} JPEG faces ({DataConfig.__name__} "
          "defaults otherwise)")
    print(f"JPEG decode + augmentation : {real:8.1f} samples/s")
    print(f"tensors in memory          : {memory:8.1f} samples/s")
    print(f"ratio pipeline/memory: {real / memory:.3f}  (target >= 0.95)")


if __name__ == "__main__":
    main()
