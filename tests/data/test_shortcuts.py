"""The label-shortcut check (dfdetect.data.shortcuts, data.probes) in prepare and doctor."""
from __future__ import annotations

import csv
import io
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dfdetect.cli.main import main
from dfdetect.data.doctor import doctor
from dfdetect.data.manifest import Manifest, Sample, write_manifest
from dfdetect.data.probes import image_properties, jpeg_quality_of
from dfdetect.data.shortcuts import find_shortcuts, measure
from dfdetect.modalities import get_modality


def picture(seed: int, size: int = 64) -> Image.Image:
    """A smooth random picture (blurred noise plus a gradient): compresses like a photo."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (size // 8, size // 8, 3), dtype=np.uint8)
    im = Image.fromarray(small).resize((size, size), Image.BICUBIC)
    noise = rng.normal(0, 6, (size, size, 3))
    return Image.fromarray(np.clip(np.asarray(im, float) + noise, 0, 255).astype(np.uint8))


def image_set(root: Path, n: int, save) -> Path:
    """``n`` reals and ``n`` fakes of the same kind of content; ``save(im, label, i, folder)``
    writes one and decides the format."""
    for label in ("real", "fake"):
        (root / label).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            save(picture(1000 * (label == "fake") + i), label, i, root / label)
    return root


def flagged(table: Path) -> dict[str, float]:
    with table.open(newline="") as f:
        return {r["property"]: float(r["auc"]) for r in csv.DictReader(f) if r["flagged"] == "1"}


def prepare(root: Path, out: Path, capsys, *extra: str) -> str:
    assert main(["prepare", "data=folder", f"root={root}", f"out={out / 'manifest.csv'}",
                 *extra]) == 0
    return capsys.readouterr().out


def test_prepare_and_doctor_flag_format_when_reals_are_jpeg_and_fakes_png(tmp_path, capsys):
    def save(im, label, i, folder):
        if label == "real":
            im.save(folder / f"r{i}.jpg", quality=90)
        else:
            im.save(folder / f"f{i}.png")

    out = prepare(image_set(tmp_path / "src", 12, save), tmp_path / "p", capsys)
    assert ("WARNING: format alone predicts the label for 100% of files (AUC 1.00; "
            "real: JPEG 100 %; fake: PNG 100 %)") in out
    assert "  what to do (image): re-encode both classes the same way" in out
    table = flagged(tmp_path / "p" / "shortcuts.csv")
    assert table["format"] == 1.0
    assert main(["doctor", f"manifest={tmp_path / 'p' / 'manifest.csv'}"]) == 0  # a warning
    report = capsys.readouterr().out
    assert "label shortcuts (one file property predicts the label, AUC >= 0.8):" in report
    assert "  format alone predicts the label for 100% of files (AUC 1.00" in report
    assert "what to do (image): re-encode both classes the same way" in report
    assert main(["prepare", "data=folder", f"root={tmp_path / 'src'}", "shortcut_warn=0",
                 f"out={tmp_path / 'q' / 'manifest.csv'}"]) == 0
    assert "WARNING" not in capsys.readouterr().out
    assert not (tmp_path / "q" / "shortcuts.csv").exists()


def test_a_clean_set_gets_no_warning(tmp_path, capsys):
    rng = np.random.default_rng(7)

    def save(im, label, i, folder):  # both classes: the same random formats and sizes
        side = int(rng.choice([48, 64, 80]))
        im = im.resize((side, side))
        if rng.random() < 0.5:
            im.save(folder / f"{label[0]}{i}.jpg", quality=int(rng.choice([80, 90])))
        else:
            im.save(folder / f"{label[0]}{i}.png")

    out = prepare(image_set(tmp_path / "src", 40, save), tmp_path / "p", capsys)
    assert "WARNING" not in out
    assert "Label-shortcut check" not in out
    assert flagged(tmp_path / "p" / "shortcuts.csv") == {}
    r = doctor(str(tmp_path / "p" / "manifest.csv"), modality_of=get_modality)
    assert r.shortcuts == [] and r.shortcut_checks[0].probed == 80
    assert "format" in r.text  # measured and shown, just not flagged


def test_jpeg_quality_trap_is_flagged(tmp_path, capsys):
    def save(im, label, i, folder):
        im.save(folder / f"{label[0]}{i}.jpg", quality=95 if label == "real" else 75)

    out = prepare(image_set(tmp_path / "src", 10, save), tmp_path / "p", capsys)
    assert "WARNING: jpeg_quality alone separates the classes (AUC 1.00; real: median 95" in out
    assert flagged(tmp_path / "p" / "shortcuts.csv")["jpeg_quality"] == 1.0


def test_jpeg_quality_estimate_and_double_compression():
    from skimage import data

    photo = Image.fromarray(data.astronaut())
    for q in (50, 75, 95):
        buf = io.BytesIO()
        photo.save(buf, "JPEG", quality=q)
        with Image.open(buf) as im:
            assert abs(jpeg_quality_of(im.quantization[0]) - q) <= 3

    def jpeg(im, q, path):
        im.save(path, quality=q)
        return Image.open(path).convert("RGB")

    tmp = Path(__import__("tempfile").mkdtemp())
    jpeg(photo, 92, tmp / "once.jpg")
    jpeg(jpeg(photo, 60, tmp / "first.jpg"), 92, tmp / "twice.jpg")
    once, twice = image_properties(tmp / "once.jpg"), image_properties(tmp / "twice.jpg")
    assert once["jpeg_quality"] == twice["jpeg_quality"] == 92
    assert once["double_jpeg"] < 0.1 < 0.3 < twice["double_jpeg"]


def write_video(path: Path, fps: int, frames: int = 6, seed: int = 0) -> None:
    import av

    rng = np.random.default_rng(seed)
    with av.open(str(path), "w") as c:
        s = c.add_stream("mpeg4", rate=Fraction(fps))
        s.width, s.height, s.pix_fmt = 32, 32, "yuv420p"
        for _ in range(frames):
            img = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
            c.mux(s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        c.mux(s.encode())


def test_frame_rate_trap_in_videos_is_flagged(tmp_path):
    samples = []
    for i in range(12):
        label = "real" if i % 2 == 0 else "fake"
        write_video(tmp_path / f"v{i}.mp4", 25 if label == "real" else 30, seed=i)
        samples.append(Sample(id=str(i), path=f"v{i}.mp4", label=label, modality="video",
                              split="train", group=str(i)))
    path = write_manifest(Manifest(samples, tmp_path), tmp_path / "manifest.csv")
    r = doctor(str(path), modality_of=get_modality, hash_files=False)
    (fps,) = [w for w in r.shortcuts if w.startswith("fps ")]
    assert fps.startswith("fps alone separates the classes (AUC 1.00; real: median 25")
    assert "what to do (video): prepare re-encodes the face crops itself" in r.text
    assert "codec" not in {s.name for c in r.shortcut_checks for s in c.flagged}


def test_measure_numeric_categorical_and_per_split():
    labels = [0, 1] * 40
    fmt = measure("format", ["JPEG" if y == 0 else "PNG" for y in labels], labels)
    assert (fmt.kind, fmt.auc, fmt.accuracy) == ("categorical", 1.0, 1.0)
    smaller = measure("size", [100 - 50 * y + i for i, y in enumerate(labels)], labels)
    assert smaller.kind == "numeric" and smaller.auc > 0.85  # the direction does not matter
    assert measure("same", ["JPEG"] * 80, labels) is None
    # a shortcut confined to one split: overall AUC is low, the split's is 1.0
    splits = ["train"] * 60 + ["val"] * 20 + ["test"] * 60
    labels = [i % 2 for i in range(140)]
    rng = np.random.default_rng(0)
    values = [float(rng.random()) if sp != "test" else 0.45 + 0.1 * y
              for sp, y in zip(splits, labels)]
    (s,) = find_shortcuts({"x": values}, labels, splits)
    assert s.auc < 0.8 and s.per_split["test"] == 1.0 and "val" not in s.per_split
    assert "test 1.00" in s.message() and s.flags(0.8)


def test_faces_flux_compression_trap_is_flagged(shared_data, tmp_path, capsys):
    """The README: reals were JPEG twice, fakes PNG then JPEG once, all re-encoded as JPEG q92
    at 256 px. Format, quality and size are equal, so those must stay silent; the compression
    history shows as a file-size gap, complete in the validation identity (AUC 1.0). (No aligned
    double-quantisation trace survives: the reals were resized between the two compressions.)"""
    root = shared_data / "faces_flux"
    if not root.is_dir():
        pytest.skip("faces_flux absent")
    out_dir = tmp_path / "ff"
    assert main(["prepare", "data=labels_csv", f"root={root / 'labels.csv'}",
                 f"out={out_dir / 'manifest.csv'}"]) == 0
    out = capsys.readouterr().out
    assert "WARNING: file_size alone separates the classes (AUC 0.73, val 1.00" in out
    with (out_dir / "shortcuts.csv").open(newline="") as f:
        measured = {r["property"] for r in csv.DictReader(f)}
    assert {"file_size", "double_jpeg"} <= measured
    assert not measured & {"format", "jpeg_quality", "width", "chroma_subsampling"}  # constant


def test_a_handful_of_files_is_not_a_shortcut():
    """AUC 0.83 from 6 files a class happens by chance (p ~ 0.06): measured, not flagged;
    a complete separation of the same 6 + 6 files is (p ~ 0.004)."""
    labels = [0] * 6 + [1] * 6
    weak = measure("file_size", [1, 2, 3, 5, 7, 9, 4, 6, 8, 10, 11, 12], labels)
    assert weak.auc > 0.8 and weak.p_value > 0.01 and not weak.flags(0.8)
    strong = measure("fps", [25] * 6 + [30] * 6, labels)
    assert strong.auc == 1.0 and strong.flags(0.8) and not strong.flags(0)


def test_prepare_warns_on_the_source_videos_before_cropping(tmp_path, capsys):
    for label, fps in (("real", 25), ("fake", 30)):
        (tmp_path / "src" / label).mkdir(parents=True)
        for i in range(6):
            write_video(tmp_path / "src" / label / f"{label[0]}{i}.mp4", fps, seed=i + fps)
    code = main(["prepare", "data=folder", f"root={tmp_path / 'src'}", f"out={tmp_path / 'p'}",
                 "detector=haar", "fallback_detector=none", "frames_per_video=1"])
    out = capsys.readouterr().out
    assert code == 2  # noise has no faces: every video fails (a user error), after the check
    assert "WARNING: fps alone separates the classes (AUC 1.00; real: median 25" in out
    assert "what to do (video): prepare re-encodes the face crops itself" in out
    assert flagged(tmp_path / "p" / "shortcuts.csv")["fps"] == 1.0


def test_doctor_on_crops_probes_their_source_videos(tmp_path):
    samples = []
    for i in range(12):
        label = "real" if i % 2 == 0 else "fake"
        video = tmp_path / f"v{i}.mp4"
        write_video(video, 25 if label == "real" else 30, seed=i)
        picture(i).save(tmp_path / f"c{i}.jpg", quality=95)  # crops: written alike
        samples.append(Sample(id=str(i), path=f"c{i}.jpg", label=label, modality="frame",
                              split="train", group=str(i), extra={"video_path": str(video)}))
    path = write_manifest(Manifest(samples, tmp_path), tmp_path / "manifest.csv")
    r = doctor(str(path), modality_of=get_modality, hash_files=False)
    names = {s.name for c in r.shortcut_checks for s in c.flagged}
    assert "video_fps" in names and not names & {"format", "jpeg_quality", "width"}
