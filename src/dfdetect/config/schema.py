"""Typed configuration: these dataclasses are the one source of defaults.

YAML files under ``configs/`` and ``key=value`` overrides only change values; every field carries a
``help`` text that the CLI prints, so ``dfdetect train --help`` documents every option.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def opt(default: Any, help: str, example: str = "", *, min: float | None = None,  # noqa: A002
        max: float | None = None, below: float | None = None,  # noqa: A002
        above: float | None = None) -> Any:
    """A dataclass field with a help text (and an example value) for the CLI, and its valid
    range: ``min``/``max`` inclusive, ``above``/``below`` exclusive bounds. The range is checked
    when a config is loaded (:func:`dfdetect.config.choices.check_ranges`) and shown by
    ``--help`` (a sentinel such as ``-1: no limit`` is inside the range)."""
    meta = {"help": help, "example": example}
    for key, value in (("min", min), ("max", max), ("below", below), ("above", above)):
        if value is not None:
            meta[key] = value
    return field(default=default, metadata=meta)


def range_text(meta: dict) -> str:
    """``>= 1``, ``0 to 1``, ``> 0`` ... from a field's range metadata ('' when it has none)."""
    lo = (f">= {meta['min']:g}" if "min" in meta else f"> {meta['above']:g}" if "above" in meta
          else "")
    hi = (f"<= {meta['max']:g}" if "max" in meta else f"< {meta['below']:g}" if "below" in meta
          else "")
    if "min" in meta and "max" in meta:
        return f"{meta['min']:g} to {meta['max']:g}"
    return " and ".join(t for t in (lo, hi) if t)


@dataclass
class DataConfig:
    """Where the samples come from and how they become tensors."""

    manifest: str = opt("", "manifest CSV (or a folder with real/ and fake/ sub-folders); "
                         "several, comma-separated (or a YAML list), train on all of them",
                         "data/ffpp/manifest.csv,data/dfdc/manifest.csv")
    root: str = opt("", "folder the manifest's paths are relative to (default: the manifest's folder)")
    image_size: int = opt(224, "side of the square model input in pixels", "128", min=8, max=4096)
    batch_size: int = opt(0, "samples per batch; 0 picks a default for the device", "32", min=0)
    num_workers: int = opt(-1, "data-loading processes; -1 picks a default for the machine", "4",
                           min=-1)
    train_split: str = opt("train", "manifest split used for training")
    val_split: str = opt("val", "manifest split used for validation and checkpoint selection")
    augment: bool = opt(True, "augment training images as the augment section says")
    extra_val: str = opt("", "more validation manifests, comma-separated; each one's val split "
                         "is reported as val_<name>/... (e.g. a cross-dataset check)",
                         "data/celebdf/manifest.csv")
    sampling: str = opt("shuffle", "shuffle; class_balanced (real and fake drawn equally); "
                        "balanced (each training manifest drawn equally)", "balanced")
    pseudo_fakes: str = opt("", "sbi: train on the real faces plus self-blended pseudo-fakes "
                            "made from them (Shiohara & Yamasaki, CVPR 2022); sbi_parts: eyes, "
                            "nose or mouth blended in from another real face or a changed "
                            "copy; sbi+parts: half each", "sbi+parts")
    pseudo_fake_p: float = opt(0.5, "with pseudo_fakes: chance that a drawn real face is "
                               "turned into a pseudo-fake", min=0, max=1)
    pseudo_with_fakes: bool = opt(False, "with pseudo_fakes: train on the manifest's labelled "
                                  "fakes too (pseudo-fakes are made from the real faces only); "
                                  "false trains on the real faces alone")
    real_label: str = opt("real", "folder / label name of the authentic class", "bonafide")
    fake_label: str = opt("fake", "folder / label name of the manipulated class", "spoof")
    split_ratio: str = opt("0.7,0.15,0.15",
                           "train,val,test ratios for a group-aware split when the manifest has none")
    # audio (issue 6): stored in the checkpoint's preprocessing, so predict decodes the same way
    sample_rate: int = opt(16000, "audio: rate every clip is resampled to (Hz)", "16000",
                           min=1000, max=192000)
    seconds: float = opt(4.0, "audio: training crop and scoring window length in seconds "
                         "(short clips are repeat-padded)", "4.0", above=0, max=600)
    window_hop: float = opt(0.0, "audio: hop between scoring windows of long files in seconds "
                            "(0: half a window)", "2.0", min=0)
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
    pretrained: str = opt("false", "true (timm hub weights), imagenet or a source name (weights "
                          "installed as packages, no network: timm:tf_efficientnet_lite0/1/2), "
                          "false, or a path to local weights", "imagenet")
    drop_rate: float = opt(0.0, "dropout before the classifier head", "0.2", min=0, below=1)
    backbone: str = opt("", "timm backbone of a composite model such as dual_branch "
                        "(empty: the model's default)", "efficientnet_b0")
    spectrum: str = opt("", "frequency branch input of dual_branch: dct or fft (empty: dct)",
                        "fft")


@dataclass
class LossConfig:
    """Training loss (see docs/training.md); ``loss=combined`` is the guides' CE+focal+F1 mix."""

    name: str = opt("ce", "ce, focal, soft_f1 or combined", "combined")
    ce_weight: float = opt(0.5, "combined: weight of the (class-weighted) cross-entropy term",
                           min=0)
    focal_weight: float = opt(0.3, "combined: weight of the focal term", min=0)
    f1_weight: float = opt(0.2, "combined: weight of the soft (differentiable) F1 term", min=0)
    focal_gamma: float = opt(2.0, "focal loss focusing parameter", min=0)
    label_smoothing: float = opt(0.0, "label smoothing of the cross-entropy term", "0.1",
                                 min=0, below=1)
    class_weights: str = opt("", "cross-entropy class weights real,fake; auto = inverse class "
                             "frequency of the training data", "auto")


@dataclass
class AugmentConfig:
    """Training augmentations (albumentations); a probability of 0 switches one off."""

    crop_scale: str = opt("0.85,1.0", "random resized crop area range (1,1: no crop)")
    hflip_p: float = opt(0.5, "horizontal flip probability", min=0, max=1)
    rotate_limit: float = opt(10.0, "largest rotation in degrees", min=0, max=180)
    rotate_p: float = opt(0.0, "rotation probability", "0.3", min=0, max=1)
    jpeg_quality: str = opt("60,100", "JPEG re-compression quality range")
    jpeg_p: float = opt(0.0, "JPEG re-compression probability", "0.3", min=0, max=1)
    jitter: float = opt(0.1, "colour jitter strength (brightness, contrast, saturation)", min=0)
    jitter_p: float = opt(0.5, "colour jitter probability", min=0, max=1)
    blur_limit: int = opt(5, "largest Gaussian blur kernel (odd)", min=0)
    blur_p: float = opt(0.0, "blur probability", "0.1", min=0, max=1)
    downscale_range: str = opt("0.5,0.9", "down-then-up scaling factor range")
    downscale_p: float = opt(0.0, "downscale probability", "0.2", min=0, max=1)


@dataclass
class LoggingConfig:
    """Where metrics go; TensorBoard and CSV need nothing extra installed."""

    loggers: str = opt("tensorboard,csv", "comma-separated: tensorboard, csv, wandb, mlflow",
                       "tensorboard,csv,wandb")
    project: str = opt("dfdetect", "W&B project / MLflow experiment name")
    wandb_mode: str = opt("offline", "W&B mode: offline (sync later with `wandb sync`) or online")
    mlflow_uri: str = opt("", "MLflow tracking URI (empty: <run folder>/mlruns)",
                          "http://localhost:5000")


@dataclass
class OptimConfig:
    """Optimiser and learning-rate schedule (factories in training/optim.py)."""

    optimizer: str = opt("adamw", "adamw or sgd", "sgd")
    lr: float = opt(1e-3, "peak learning rate (0 freezes the weights)", "3e-4", min=0)
    weight_decay: float = opt(0.05, "weight decay (decoupled for AdamW)", min=0)
    momentum: float = opt(0.9, "SGD momentum", min=0, below=1)
    nesterov: bool = opt(False, "SGD Nesterov momentum")
    scheduler: str = opt("cosine", "cosine (with warm-up and eta_min), step, plateau or none",
                         "step")
    warmup_epochs: float = opt(0.0, "linear warm-up length in epochs (fractions allowed; "
                               "cosine and step)", "0.5", min=0)
    min_lr: float = opt(1e-6, "eta_min: learning rate at the end of the cosine schedule", min=0)
    step_epochs: float = opt(10.0, "step: multiply the rate by gamma every this many epochs",
                             above=0)
    gamma: float = opt(0.1, "step: decay factor", above=0, max=1)
    plateau_patience: int = opt(2, "plateau: epochs without improvement before decaying", min=0)
    plateau_factor: float = opt(0.1, "plateau: decay factor", above=0, below=1)


@dataclass
class TrainerConfig:
    """How and where the training loop runs."""

    epochs: int = opt(10, "number of passes over the training split", "20", min=1)
    max_steps: int = opt(-1, "stop after this many optimiser steps (-1: no limit)", "100", min=-1)
    device: str = opt("auto", "auto (CUDA, then Apple MPS, then CPU), cpu, cuda or mps", "cpu")
    gpus: str = opt("", "GPU indices to use, comma separated (implies device=cuda)", "0,1")
    precision: str = opt("auto", "auto (mixed on CUDA; on CPU bf16-mixed with native bf16 "
                         "units, else fp32), 32, 16-mixed or bf16-mixed")
    memory_format: str = opt("auto", "auto (channels_last for image models on CPU and CUDA: "
                             "1.35-1.5x faster Lite0 steps on a CPU, bench/memory_format.py), "
                             "channels_last or contiguous", "contiguous")
    seed: int = opt(42, "random seed for splits, sampling and initialisation")
    deterministic: bool = opt(False, "use deterministic algorithms (slower; exact reruns)")
    monitor: str = opt("val/f1_macro", "validation metric that picks the best checkpoint",
                       "val/auc")
    log_every_n_steps: int = opt(10, "how often to log training metrics", min=1)
    limit_train_batches: float = opt(1.0, "fraction (or count, if > 1) of training batches per epoch",
                                     above=0)
    limit_val_batches: float = opt(1.0, "fraction (or count, if > 1) of validation batches",
                                   above=0)
    progress: bool = opt(True, "show the live progress bar (false: a text line every "
                         "log_every_n_steps steps)")
    processes: int = opt(1, "CPU only: DDP processes on this machine (gloo); tests multi-process "
                         "training without GPUs", "2", min=1)
    num_nodes: int = opt(1, "machines in a DDP run (launch with torchrun or SLURM)", "2", min=1)
    strategy: str = opt("auto", "Lightning strategy; auto is DDP when several devices are used",
                        "ddp")
    grad_clip: float = opt(0.0, "clip the gradient norm to this value (0: off)", "1.0", min=0)
    accumulate: int = opt(1, "accumulate gradients over this many batches per optimiser step",
                          min=1)
    grad_checkpointing: bool = opt(False, "recompute activations in backward to save memory "
                                   "(timm backbones that support it)")
    patience: int = opt(0, "early stopping: epochs without improvement of monitor (0: off)", "5",
                        min=0)
    resume: str = opt("", "auto: continue the run folder <out_dir>/<name> from its resume.ckpt "
                      "(or start it); or the path of a resume.ckpt", "auto")
    save_every_n_steps: int = opt(0, "also save the resume state every N optimiser steps", "500",
                                  min=0)
    save_every_minutes: float = opt(0.0, "also save the resume state every M minutes", "10", min=0)
    max_time: str = opt("", "HH:MM: save the resume state and stop cleanly after this long",
                        "08:30")
    backup_dir: str = opt("", "mirror checkpoints and logs here after each save (background)",
                          "/content/drive/MyDrive/runs")
    save_top_k: int = opt(1, "keep the k best checkpoints by monitor (top_k/ beside best.ckpt; "
                          "best.ckpt is the best of them); last.ckpt and resume.ckpt are kept too",
                          "3", min=1)
    export: str = opt("", "after a finished run, export best.ckpt to this format and check its "
                      "parity with PyTorch (as `dfdetect export`)", "onnx")


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
    loss: LossConfig = field(default_factory=LossConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)


@dataclass
class EvaluateConfig:
    """Options of `dfdetect evaluate`."""

    ckpt: str = opt("", "checkpoint written by train; several separated by commas are an "
                    "ensemble (averaged P(fake)), optionally weighted as path:weight",
                    "runs/a/best.ckpt:0.7,runs/b/best.ckpt:0.3")
    data: str = opt("", "manifest CSV (or real/fake folder) to score", "data/faces/manifest.csv")
    root: str = opt("", "folder the manifest's paths are relative to (default: its folder)")
    split: str = opt("test", "manifest split to evaluate; 'all' uses every row", "val")
    out: str = opt("", "report folder (default: <checkpoint folder>/eval/<data name>-<hash of "
                   "the data path>/<split>)")
    overwrite: bool = opt(False, "replace the report already in the report folder (otherwise "
                          "evaluate refuses to write over it)")
    threshold: float = opt(-1.0, "score above which a sample is fake; -1 chooses it on "
                           "threshold_split (or uses the checkpoint's when that is empty)", "0.5",
                           min=-1, max=1)
    threshold_split: str = opt("val", "split whose scores choose the decision threshold, applied "
                               "to the evaluated split; '' keeps the checkpoint's threshold", "")
    threshold_rule: str = opt("eer", "how the threshold is chosen: eer, balanced_accuracy or "
                              "f1_macro", "balanced_accuracy")
    save_threshold: bool = opt(False, "write the chosen threshold (headline level) into the "
                               "checkpoint, so predict uses it (one checkpoint only)", "true")
    aggregation: str = opt("mean", "frame -> video score: mean, max, topk_mean or confident",
                           "topk_mean")
    topk: int = opt(3, "k of topk_mean (frames per video)", "5", min=1)
    bootstrap: int = opt(1000, "bootstrap resamples (by video / identity) for the 95% intervals; "
                         "0 turns them off", "200", min=0)
    seed: int = opt(0, "seed of the bootstrap")
    robustness: str = opt("", "re-score under perturbations: images jpeg, blur, resize, h264; "
                          "audio mp3, opus, noise, resample8k (levels after a colon, separated "
                          "by /)", "jpeg,blur:1/3,resize")
    mistakes: int = opt(12, "most confident mistakes listed, with a thumbnail sheet", "24", min=0)
    by: str = opt("", "manifest column(s), comma-separated, to add a breakdown table for (as the "
                  "per-method one), e.g. a labels CSV's extra column", "generator,difficulty")
    backend: str = opt("torch", "torch, or onnx (runs the export beside each checkpoint)")
    batch_size: int = opt(0, "samples per batch; 0 picks a default for the device", min=0)
    num_workers: int = opt(-1, "data-loading processes; -1 picks a default", min=-1)
    device: str = opt("auto", "auto, cpu, cuda or mps")
    progress: bool = opt(True, "show files done, rate and ETA (a bar in a terminal, else a line "
                         "every 10 s)")
    asv_scores: str = opt("", "audio: ASV score file (ASVspoof 2019 format: source key score) "
                          "to compute min t-DCF", "ASVspoof2019.LA.asv.eval.gi.trl.scores.txt")


@dataclass
class PredictConfig:
    """Options of `dfdetect predict`."""

    ckpt: str = opt("", "checkpoint written by train (or an .onnx export); several separated by "
                    "commas are an ensemble, optionally weighted as path:weight",
                    "runs/demo/best.ckpt")
    input: str = opt("", "an image, a video, a folder (searched recursively) or a manifest CSV",
                     "photos/")
    out: str = opt("submission.csv", "output file: .csv, or .jsonl (adds per-frame scores, times "
                   "and face boxes of videos)", "scores.jsonl")
    overwrite: bool = opt(False, "write out= even over an input, a checkpoint or a manifest "
                          "(otherwise predict refuses)")
    split: str = opt("", "with a manifest input: only rows of this split")
    threshold: float = opt(-1.0, "score above which the label is fake; -1 uses the checkpoint's",
                           min=-1, max=1)
    columns: str = opt("id,score,label,status,error",
                       "output columns, in order, from id,path,score,label,status,error",
                       "id,score")
    id_column: str = opt("id", "header used for the id column", "filename")
    score_column: str = opt("score", "header used for the score column (probability of fake)")
    label_column: str = opt("label", "header used for the label column")
    backend: str = opt("torch", "torch, or onnx (the .onnx written by `dfdetect export`)", "onnx")
    aggregation: str = opt("mean", "video score from frame scores: mean, max, topk_mean or "
                           "confident")
    topk: int = opt(3, "k of topk_mean", min=1)
    frames: int = opt(16, "frames sampled per video", "32", min=1, max=10000)
    progress: bool = opt(True, "show files done, rate and ETA (a bar in a terminal, else a line "
                         "every 10 s)")
    batch_size: int = opt(0, "images per batch; 0 picks a default for the device", min=0)
    num_workers: int = opt(-1, "data-loading processes; -1 picks a default", min=-1)
    device: str = opt("auto", "auto, cpu, cuda or mps")


@dataclass
class ServeConfig:
    """Options of `dfdetect serve` (HTTP API and web page; see docs/serve.md)."""

    ckpt: str = opt("", "checkpoint written by train (or an .onnx export); several separated by "
                    "commas are an ensemble, optionally weighted as path:weight; loaded once at "
                    "start, never from a request", "runs/demo/run/best.ckpt")
    host: str = opt("127.0.0.1", "address to listen on (0.0.0.0: every interface; put a proxy "
                    "with authentication in front: the API has none)", "0.0.0.0")
    port: int = opt(8000, "TCP port (0: any free port)", "8080", min=0, max=65535)
    workers: int = opt(1, "server processes, each with its own copy of the model", "2",
                       min=1, max=64)
    max_concurrent: int = opt(2, "files scored at once per process; more requests wait",
                              "4", min=1, max=256)
    queue_timeout: float = opt(30.0, "seconds a request waits for a free slot before a 503 "
                               "with Retry-After", "5", min=0)
    max_upload_mb: float = opt(50.0, "largest upload accepted (MB); larger gets a 413",
                               "200", above=0)
    max_video_seconds: float = opt(120.0, "longest video accepted (seconds); longer gets a 422",
                                   "600", above=0)
    max_audio_seconds: float = opt(600.0, "longest audio clip accepted (seconds); longer gets a "
                                   "422", "3600", above=0)
    thumbnails: int = opt(4, "face crops of the most suspicious video frames returned as JPEG "
                          "thumbnails", "8", min=0, max=32)
    tmp_dir: str = opt("", "folder for the uploads' temporary folders (default: the system's); "
                       "each upload's folder is removed when its request ends", "/scratch")
    threshold: float = opt(-1.0, "score above which the label is fake; -1 uses the checkpoint's",
                           min=-1, max=1)
    backend: str = opt("torch", "torch, or onnx (the .onnx written by `dfdetect export`)", "onnx")
    aggregation: str = opt("mean", "video score from frame scores: mean, max, topk_mean or "
                           "confident")
    topk: int = opt(3, "k of topk_mean", min=1)
    frames: int = opt(16, "frames sampled per video", "32", min=1, max=10000)
    batch_size: int = opt(0, "images per batch; 0 picks a default for the device", min=0)
    device: str = opt("auto", "auto, cpu, cuda or mps")


@dataclass
class CompareConfig:
    """Options of `dfdetect compare` (run folders may also be given without runs=)."""

    POSITIONAL = "runs"  # class attribute (not a field): bare command-line words go here

    runs: str = opt("", "report folders, run folders or metrics.json files, comma separated",
                    "runs/a,runs/b")
    level: str = opt("", "frame, video, or '' for every level the reports have", "video")
    out: str = opt("", "also write the table to this Markdown file", "compare.md")


@dataclass
class ExportConfig:
    """Options of `dfdetect export`."""

    ckpt: str = opt("", "checkpoint written by train", "runs/demo/run/best.ckpt")
    format: str = opt("onnx", "export format", "onnx")
    out: str = opt("", "output file (default: the checkpoint's path with the format's suffix)")
    overwrite: bool = opt(False, "write out= even over the checkpoint or another model file "
                          "(otherwise export refuses)")
    opset: int = opt(18, "ONNX opset version", "17", min=9, max=23)
    tolerance: float = opt(1e-4, "largest allowed |logit difference| from PyTorch on the sample "
                           "inputs", "1e-3", min=0)
    seed: int = opt(0, "seed of the random sample inputs of the parity check")


@dataclass
class PrepareConfig:
    """Options of `dfdetect prepare` (a dataset -> manifest; videos -> face crops + manifest)."""

    data: str = opt("folder", "dataset adapter: folder, labels_csv, ffpp, celebdf, dfdc",
                    "ffpp")
    root: str = opt("", "dataset folder (or the labels CSV for labels_csv)", "/data/faces")
    out: str = opt("", "output manifest CSV; with videos, the output folder (crops, manifest.csv,"
                   " failures.csv)", "data/ffpp_c23")
    overwrite: bool = opt(False, "replace an existing manifest at out= (its splits change: a model "
                          "trained on the old ones would leak) or write over the input")
    real_label: str = opt("real", "folder / label name of the authentic class")
    fake_label: str = opt("fake", "folder / label name of the manipulated class")
    split_ratio: str = opt("0.7,0.15,0.15", "train,val,test ratios for the group-aware split of "
                           "rows the dataset leaves unsplit (0.8 = train 0.8 / val 0.2)", "0.8")
    seed: int = opt(42, "seed of the split")
    check_files: bool = opt(True, "verify that every file exists")
    official_split: bool = opt(True, "use the dataset's own split files when present (FF++ "
                               "splits/*.json, Celeb-DF List_of_testing_videos.txt, DFDC "
                               "metadata.json)")
    compression: str = opt("c23", "FaceForensics++ quality folder: raw, c23 or c40", "c40")
    detector: str = opt("mtcnn", "face detector: mtcnn (5 landmarks) or haar (box only); both "
                        "ship their weights, nothing is downloaded", "haar")
    fallback_detector: str = opt("haar", "detector tried on frames where the first finds no "
                                 "face; none to disable", "none")
    frames_per_video: int = opt(32, "evenly spaced frames sampled per video; 0 keeps every "
                                "frame", "16", min=0)
    frame_step: int = opt(0, "keep every k-th frame instead (overrides frames_per_video)", "10",
                          min=0)
    detect_size: int = opt(640, "longer side of the copy faces are detected on (boxes are mapped"
                           " back to full resolution); 0 = full size", "480", min=0)
    min_face_size: int = opt(40, "smallest face searched for, in detection pixels", "20", min=1)
    margin: float = opt(0.2, "added around the face box on every side, as a fraction of its "
                        "longer side", "0.3", min=0, max=2)
    image_size: int = opt(224, "side of the saved square crops in pixels", "380", min=8, max=4096)
    jpeg_quality: int = opt(95, "JPEG quality of the crops (1-100)", "90", min=1, max=100)
    keep_all_faces: bool = opt(False, "keep every face track, not only the main face")
    image_faces: bool = opt(True, "images: detect the face and its landmarks (box, 5 points, "
                            "dense hull) into the manifest, for SBI; false lists images as they "
                            "are")
    landmarks: str = opt("mediapipe", "images: dense landmarks for the SBI face hull and part "
                         "blends: mediapipe (468-point FaceMesh, models ship in its wheel) or "
                         "none (5 points from the detector)", "none")
    crop: bool = opt(False, "images: cut the face out as videos are (square, margin, "
                     "image_size); false keeps images whole, as predict scores them")
    num_workers: int = opt(0, "video processes; 0 works in this process (with all cores)", "8",
                           min=0)
    shard: str = opt("", "K/N: this job prepares shard K (0..N-1) of N; join with dfdetect "
                     "merge", "0/4")
    retry_failed: bool = opt(False, "re-run videos that failed in an earlier run (done videos "
                             "are always skipped)")
    device: str = opt("cpu", "device of the face detector: cpu, cuda or mps", "cuda")
    shortcut_warn: float = opt(0.8, "warn when one file property (format, size, JPEG quality, "
                               "fps, codec, sample rate, ...) alone predicts the label with this "
                               "AUC; table in shortcuts.csv beside the manifest; 0 = no check",
                               "0.9")

    # audio (issue 6)
    protocol: str = opt("", "protocol / key file or folder for datasets that ship them "
                        "separately (ASVspoof 2021 keys, ASVspoof 5 .tsv)",
                        "LA-keys-full/keys/LA/CM/trial_metadata.txt")
    track: str = opt("LA", "ASVspoof 2021 track: LA or DF", "DF")
    sample_rate: int = opt(16000, "audio: decode, mix to mono and resample to this rate (Hz)",
                           min=1000, max=192000)
    trim_silence: bool = opt(False, "audio: drop leading/trailing silence when converting")
    convert_audio: bool = opt(True, "audio: write converted clips to <out folder>/audio "
                              "(cached, resumable); false keeps the original files")


@dataclass
class MergeConfig:
    """Options of `dfdetect merge` (shard manifests of one prepare -> one manifest)."""

    root: str = opt("", "the prepare output folder holding shards/", "data/ffpp_c23")
    out: str = opt("", "merged manifest (default: <root>/manifest.csv)")
    check_files: bool = opt(True, "verify that every crop exists")


@dataclass
class DoctorConfig:
    """Options of `dfdetect doctor` (leakage and sanity report of a manifest)."""

    manifest: str = opt("", "manifest CSV to check", "data/ffpp_c23/manifest.csv")
    root: str = opt("", "folder the manifest's paths are relative to (default: its folder)")
    hash_files: bool = opt(True, "hash every file to find identical files in different splits")
    shortcut_warn: float = opt(0.8, "flag file properties (format, size, JPEG quality, fps, "
                               "codec, ...) that alone predict the label with this AUC; 0 = no "
                               "check", "0.9")


@dataclass
class EnvConfig:
    """Options of `dfdetect env` (is this machine ready?)."""

    format: str = opt("table", "output: table or json", "json")
    folder: str = opt(".", "folder whose free disk space is reported", "/data")
    min_free_gb: float = opt(5.0, "warn when the folder has less free space (GB)", "20", min=0)


@dataclass
class DemoConfig:
    """Options of `dfdetect demo`."""

    out: str = opt("runs/demo", "folder for the demo's data, run, report and submission")
    model: str = opt("timm:tf_efficientnet_lite0", "image model to train", "timm:resnet18")
    pretrained: str = opt("imagenet", "initial weights of the image model: imagenet (offline "
                          "weights installed as packages; see `dfdetect models`) or false (from "
                          "scratch)", "false")
    audio: bool = opt(True, "also run the audio part (synthetic speech vs Griffin-Lim resynthesis)")
    audio_model: str = opt("lcnn", "audio model the demo trains", "aasist_l")
    audio_epochs: int = opt(12, "training epochs of the audio part (1 s crops, ~4 steps each)",
                            min=1)
    image_size: int = opt(64, "input size (the demo images are made at this size)",
                          min=16, max=1024)
    epochs: int = opt(10, "training epochs", min=1)
    variants: int = opt(2, "real and fake variants made per identity", min=1)
    clips: int = opt(1, "short videos per photo identity and class, rendered and prepared into "
                     "face crops (0: images only)", "2", min=0)
    seed: int = opt(0, "seed for data, split and training")
    device: str = opt("auto", "auto, cpu, cuda or mps")
