"""Typed configuration: these dataclasses are the one source of defaults.

YAML files under ``configs/`` and ``key=value`` overrides only change values; every field carries a
``help`` text that the CLI prints, so ``dfdetect train --help`` documents every option.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def opt(default: Any, help: str, example: str = "") -> Any:  # noqa: A002 - mirrors argparse
    """A dataclass field with a help text (and an example value) for the CLI."""
    return field(default=default, metadata={"help": help, "example": example})


@dataclass
class DataConfig:
    """Where the samples come from and how they become tensors."""

    manifest: str = opt("", "manifest CSV (or a folder with real/ and fake/ sub-folders)",
                         "data/faces/manifest.csv")
    root: str = opt("", "folder the manifest's paths are relative to (default: the manifest's folder)")
    image_size: int = opt(224, "side of the square model input in pixels", "128")
    batch_size: int = opt(0, "samples per batch; 0 picks a default for the device", "32")
    num_workers: int = opt(-1, "data-loading processes; -1 picks a default for the machine", "4")
    train_split: str = opt("train", "manifest split used for training")
    val_split: str = opt("val", "manifest split used for validation and checkpoint selection")
    augment: bool = opt(True, "horizontal flip and mild colour jitter on training images")
    real_label: str = opt("real", "folder / label name of the authentic class", "bonafide")
    fake_label: str = opt("fake", "folder / label name of the manipulated class", "spoof")
    split_ratio: str = opt("0.7,0.15,0.15",
                           "train,val,test ratios for a group-aware split when the manifest has none")
    # audio (issue 6): stored in the checkpoint's preprocessing, so predict decodes the same way
    sample_rate: int = opt(16000, "audio: rate every clip is resampled to (Hz)", "16000")
    seconds: float = opt(4.0, "audio: training crop and scoring window length in seconds "
                         "(short clips are repeat-padded)", "4.0")
    window_hop: float = opt(0.0, "audio: hop between scoring windows of long files in seconds "
                            "(0: half a window)", "2.0")
    trim_silence: bool = opt(False, "audio: drop leading/trailing silence before cropping "
                             "(silence length is a label shortcut in ASVspoof 2019 LA)")
    audio_augment: str = opt("gain,noise,reverb,rawboost,mask",
                             "audio: training augmentations, comma separated, from gain, noise, "
                             "reverb, codec, rawboost, mask (none: off)", "gain,codec")


@dataclass
class ModelConfig:
    """Which architecture to build (see `dfdetect models`)."""

    name: str = opt("timm:efficientnet_b0", "registered model or any timm model as timm:<name>",
                    "timm:resnet18")
    pretrained: str = opt("false", "true (timm hub weights), false, or a path to local weights",
                          "weights/resnet18.safetensors")
    drop_rate: float = opt(0.0, "dropout before the classifier head", "0.2")


@dataclass
class OptimConfig:
    """AdamW with linear warm-up then cosine decay."""

    lr: float = opt(1e-3, "peak learning rate", "3e-4")
    weight_decay: float = opt(0.05, "AdamW weight decay")
    warmup_epochs: float = opt(0.0, "linear warm-up length in epochs (fractions allowed)", "0.5")
    min_lr: float = opt(1e-6, "learning rate at the end of the cosine schedule")


@dataclass
class TrainerConfig:
    """How and where the training loop runs."""

    epochs: int = opt(10, "number of passes over the training split", "20")
    max_steps: int = opt(-1, "stop after this many optimiser steps (-1: no limit)", "100")
    device: str = opt("auto", "auto (CUDA, then Apple MPS, then CPU), cpu, cuda or mps", "cpu")
    gpus: str = opt("", "GPU indices to use, comma separated (implies device=cuda)", "0,1")
    precision: str = opt("auto", "auto (mixed on CUDA, fp32 on CPU), 32, 16-mixed or bf16-mixed")
    seed: int = opt(42, "random seed for splits, sampling and initialisation")
    deterministic: bool = opt(False, "use deterministic algorithms (slower; exact reruns)")
    monitor: str = opt("val/f1_macro", "validation metric that picks the best checkpoint",
                       "val/auc")
    log_every_n_steps: int = opt(10, "how often to log training metrics")
    limit_train_batches: float = opt(1.0, "fraction (or count, if > 1) of training batches per epoch")
    limit_val_batches: float = opt(1.0, "fraction (or count, if > 1) of validation batches")
    progress: bool = opt(True, "show the live progress bar")


@dataclass
class TrainConfig:
    """Everything `dfdetect train` needs; saved as ``config.yaml`` in the run directory."""

    name: str = opt("", "run name; the run goes to <out_dir>/<name> (auto-numbered if taken)",
                    "effb0_faces")
    out_dir: str = opt("runs", "folder that holds the runs")
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)


@dataclass
class EvaluateConfig:
    """Options of `dfdetect evaluate`."""

    ckpt: str = opt("", "checkpoint written by train", "runs/demo/best.ckpt")
    data: str = opt("", "manifest CSV (or real/fake folder) to score", "data/faces/manifest.csv")
    root: str = opt("", "folder the manifest's paths are relative to (default: its folder)")
    split: str = opt("test", "manifest split to evaluate; 'all' uses every row", "val")
    out: str = opt("", "report folder (default: <checkpoint folder>/eval/<split>)")
    threshold: float = opt(-1.0, "score above which a sample is fake; -1 uses the checkpoint's")
    batch_size: int = opt(0, "samples per batch; 0 picks a default for the device")
    num_workers: int = opt(-1, "data-loading processes; -1 picks a default")
    device: str = opt("auto", "auto, cpu, cuda or mps")
    asv_scores: str = opt("", "audio: ASV score file (ASVspoof 2019 format: source key score) "
                          "to compute min t-DCF", "ASVspoof2019.LA.asv.eval.gi.trl.scores.txt")


@dataclass
class PredictConfig:
    """Options of `dfdetect predict`."""

    ckpt: str = opt("", "checkpoint written by train", "runs/demo/best.ckpt")
    input: str = opt("", "an image, a folder (searched recursively) or a manifest CSV",
                     "photos/")
    out: str = opt("submission.csv", "output CSV")
    split: str = opt("", "with a manifest input: only rows of this split")
    threshold: float = opt(-1.0, "score above which the label is fake; -1 uses the checkpoint's")
    columns: str = opt("id,score,label,status,error",
                       "output columns, in order, from id,path,score,label,status,error",
                       "id,score")
    id_column: str = opt("id", "header used for the id column", "filename")
    score_column: str = opt("score", "header used for the score column (probability of fake)")
    label_column: str = opt("label", "header used for the label column")
    batch_size: int = opt(0, "images per batch; 0 picks a default for the device")
    num_workers: int = opt(-1, "data-loading processes; -1 picks a default")
    device: str = opt("auto", "auto, cpu, cuda or mps")


@dataclass
class PrepareConfig:
    """Options of `dfdetect prepare` (image datasets -> manifest)."""

    data: str = opt("folder", "dataset adapter (see `dfdetect prepare --help`)", "labels_csv")
    root: str = opt("", "dataset folder (or the labels CSV for labels_csv)", "/data/faces")
    out: str = opt("", "output manifest CSV", "data/faces/manifest.csv")
    real_label: str = opt("real", "folder / label name of the authentic class")
    fake_label: str = opt("fake", "folder / label name of the manipulated class")
    split_ratio: str = opt("0.7,0.15,0.15", "train,val,test ratios for the group-aware split")
    seed: int = opt(42, "seed of the split")
    check_files: bool = opt(True, "verify that every file exists")
    # audio (issue 6)
    protocol: str = opt("", "protocol / key file or folder for datasets that ship them "
                        "separately (ASVspoof 2021 keys, ASVspoof 5 .tsv)",
                        "LA-keys-full/keys/LA/CM/trial_metadata.txt")
    track: str = opt("LA", "ASVspoof 2021 track: LA or DF", "DF")
    sample_rate: int = opt(16000, "audio: decode, mix to mono and resample to this rate (Hz)")
    trim_silence: bool = opt(False, "audio: drop leading/trailing silence when converting")
    convert_audio: bool = opt(True, "audio: write converted clips to <out folder>/audio "
                              "(cached, resumable); false keeps the original files")


@dataclass
class DemoConfig:
    """Options of `dfdetect demo`."""

    out: str = opt("runs/demo", "folder for the demo's data, run, report and submission")
    model: str = opt("timm:resnet18", "model to train")
    audio: bool = opt(True, "also run the audio part (synthetic speech vs Griffin-Lim resynthesis)")
    audio_model: str = opt("lcnn", "audio model the demo trains", "aasist_light")
    audio_epochs: int = opt(12, "training epochs of the audio part (1 s crops, ~4 steps each)")
    image_size: int = opt(96, "input size")
    epochs: int = opt(6, "training epochs")
    variants: int = opt(2, "real and fake variants made per identity")
    seed: int = opt(0, "seed for data, split and training")
    device: str = opt("auto", "auto, cpu, cuda or mps")
