"""One test per hardening fix of issue 11 (sections 1-3), each failing on the code before it."""
from __future__ import annotations

import io
import logging
import os
import threading

import numpy as np
import pytest
import torch

from dfdetect.data.media import DecodeError

pytestmark = pytest.mark.timeout(60)
LATIN1 = os.fsdecode(b"caf\xe9.png")  # a file name that is not valid UTF-8


def test_manifest_round_trips_a_non_utf8_path(tmp_path) -> None:
    from dfdetect.data.manifest import Manifest, Sample, read_manifest, write_manifest

    (tmp_path / LATIN1).write_bytes(b"x")
    m = Manifest([Sample(LATIN1, LATIN1, "real")], tmp_path)
    write_manifest(m, tmp_path / "manifest.csv")
    back = read_manifest(tmp_path / "manifest.csv")
    assert back.samples[0].path == LATIN1 and back.resolve(back.samples[0]).is_file()
    assert b"caf\xe9.png" in (tmp_path / "manifest.csv").read_bytes()  # the original bytes


def test_failure_log_takes_any_name(tmp_path) -> None:
    from dfdetect.failures import FailureLog

    log = FailureLog(tmp_path / "failures.csv")
    log.record(tmp_path / LATIN1, "load", "bad")
    log.record("odd \ud800 name", "load", "bad")  # a lone surrogate no file system gives
    assert [r["path"] for r in log.read()][0] == str(tmp_path / LATIN1)


def test_csv_cells_starting_a_formula_are_quoted_and_jsonl_is_not(tmp_path) -> None:
    import json

    from dfdetect.inference.writers import write_csv, write_jsonl

    rows = [{"id": name, "path": name, "score": -0.0 + 0.25, "label": "real", "status": "ok",
             "error": ""} for name in ("=cmd|calc.jpg", "+SUM(1).jpg", "-", "@x", "plain.jpg")]
    text = write_csv(rows, tmp_path / "s.csv").read_text()
    ids = [line.split(",")[0] for line in text.splitlines()[1:]]
    assert ids == ["'=cmd|calc.jpg", "'+SUM(1).jpg", "'-", "'@x", "plain.jpg"]
    assert ",0.250000," in text  # numbers untouched
    lines = write_jsonl(rows, tmp_path / "s.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["id"] == "=cmd|calc.jpg"


def test_non_finite_score_is_an_error_row() -> None:
    from dfdetect.inference.predict import Item, _row
    from dfdetect.inference.predictor import Prediction

    for bad in (float("nan"), float("inf")):
        row = _row(Item("a.wav", "a.wav"), Prediction("a.wav", bad), 0.5)
        assert row["status"] == "error" and row["label"] is None and row["score"] is None
        assert "non-finite" in row["error"]


def test_16_bit_png_is_scaled_not_clipped(tmp_path) -> None:
    from PIL import Image

    from dfdetect.data.image import load_image

    gray = np.full((8, 8), 32768, np.uint16)  # mid-grey in 16 bits
    Image.fromarray(gray).save(tmp_path / "g16.png")
    arr = load_image(tmp_path / "g16.png")
    assert arr.shape == (8, 8, 3) and arr.dtype == np.uint8
    assert abs(int(arr[0, 0, 0]) - 128) <= 1  # was 255 (clipped to white)


def test_float_tiff_nan_is_an_error_and_unit_floats_are_scaled(tmp_path) -> None:
    from PIL import Image

    from dfdetect.data.image import load_image

    Image.fromarray(np.full((8, 8), np.nan, np.float32), mode="F").save(tmp_path / "nan.tif")
    with pytest.raises(DecodeError, match="NaN"):
        load_image(tmp_path / "nan.tif")
    Image.fromarray(np.full((8, 8), 0.5, np.float32), mode="F").save(tmp_path / "half.tif")
    assert abs(int(load_image(tmp_path / "half.tif")[0, 0, 0]) - 128) <= 1


def test_image_pixels_are_bounded_from_the_header(tmp_path, monkeypatch) -> None:
    from PIL import Image

    from dfdetect.data.image import load_image

    Image.new("1", (400, 300)).save(tmp_path / "big.png")
    monkeypatch.setenv("DFDETECT_MAX_IMAGE_PIXELS", "100000")  # 120,000 pixels > bound
    with pytest.raises(DecodeError, match="max_image_pixels"):
        load_image(tmp_path / "big.png")
    monkeypatch.setenv("DFDETECT_MAX_IMAGE_PIXELS", "200000")
    assert load_image(tmp_path / "big.png").shape == (300, 400, 3)


def _fifo_reader_returns(tmp_path, read) -> None:
    """``read(fifo)`` raises DecodeError at once; without the check it blocks forever."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    outcome: list = []

    def target() -> None:
        try:
            read(fifo)
        except DecodeError as e:
            outcome.append(str(e))

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(10)
    if t.is_alive():  # unblock the reader so the test process can end
        with open(fifo, "wb"):
            pass
        t.join(5)
        pytest.fail("the reader opened the FIFO and blocked")
    assert outcome and "FIFO" in outcome[0]


def test_fifo_is_never_opened_as_an_image(tmp_path) -> None:
    from dfdetect.data.image import load_image

    _fifo_reader_returns(tmp_path, load_image)


def test_fifo_is_never_opened_as_audio(tmp_path) -> None:
    from dfdetect.data.audio import load_audio

    _fifo_reader_returns(tmp_path, load_audio)


def test_not_regular_names_devices_and_loops(tmp_path) -> None:
    from dfdetect.io import not_regular

    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    assert "device" in not_regular("/dev/zero")
    assert "cannot stat" in not_regular(tmp_path / "a")
    assert "directory" in not_regular(tmp_path)
    (tmp_path / "f").write_bytes(b"x")
    assert not_regular(tmp_path / "f") == ""


def _wav(rate: int, n_bytes: int) -> bytes:
    import struct

    return (b"RIFF" + struct.pack("<I", 36 + n_bytes) + b"WAVEfmt " +
            struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16) + b"data" +
            struct.pack("<I", n_bytes) + bytes(n_bytes))


def test_audio_rate_zero_and_one_hz_are_refused_before_decoding(tmp_path) -> None:
    from dfdetect.data.audio import load_audio

    (tmp_path / "r0.wav").write_bytes(_wav(0, 2000))
    (tmp_path / "r1.wav").write_bytes(_wav(1, 4000))
    with pytest.raises(DecodeError, match="0 Hz"):
        load_audio(tmp_path / "r0.wav", 16000)
    with pytest.raises(DecodeError, match="max_audio_seconds|max_upsample"):
        load_audio(tmp_path / "r1.wav", 16000)  # was 2,000 s decoded, ~4,000 windows


def test_audio_duration_bound_is_configurable(tmp_path, monkeypatch) -> None:
    from dfdetect.data.audio import load_audio

    (tmp_path / "two_s.wav").write_bytes(_wav(16000, 64000))
    monkeypatch.setenv("DFDETECT_MAX_AUDIO_SECONDS", "1")
    with pytest.raises(DecodeError, match="max_audio_seconds"):
        load_audio(tmp_path / "two_s.wav", 16000)
    monkeypatch.delenv("DFDETECT_MAX_AUDIO_SECONDS")
    assert load_audio(tmp_path / "two_s.wav", 16000).size == 32000


def test_crop_provider_turns_any_detector_error_into_a_decode_error(tmp_path, monkeypatch) -> None:
    from dfdetect.inference.video import crop_provider
    from dfdetect.preprocess import cropper

    def boom(self, path):
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")

    monkeypatch.setattr(cropper.FaceCropper, "__call__", boom)
    provider = crop_provider({"image_size": 32}, num_frames=2, detector="haar",
                             fallback_detector="none")
    with pytest.raises(DecodeError, match="cannot crop faces"):
        provider(str(tmp_path / "tiny.mp4"))


def test_video_scorer_survives_any_provider_error_and_flags_partial() -> None:
    from dfdetect.inference.video import VideoScorer

    class Crops(list):
        note = "truncated: 3 of 30 frames announced by the header are readable"

    class Scorer:
        batch_size = 4

        def score_arrays(self, arrays):
            return [0.9] * len(arrays)

    def provider(path):
        if path == "bad.mp4":
            raise RuntimeError("anything at all")
        crops = [(0, np.zeros((8, 8, 3), np.uint8))]
        return Crops(crops) if path == "cut.mp4" else crops

    out = list(VideoScorer(Scorer(), provider).score(["bad.mp4", "cut.mp4", "good.mp4"]))
    assert [p.status for p in out] == ["error", "partial", "ok"]
    assert "RuntimeError" in out[0].error and "truncated" in out[1].error
    assert out[1].score == pytest.approx(0.9)


def test_predictor_turns_any_load_exception_into_an_error_row(make_tiny_ckpt, tmp_path,
                                                              monkeypatch) -> None:
    from PIL import Image

    from dfdetect.inference.predictor import Predictor

    for name in ("a.png", "b.png"):
        Image.new("RGB", (40, 40), "gray").save(tmp_path / name)
    pred = Predictor.from_checkpoint(make_tiny_ckpt(), device="cpu", batch_size=4, num_workers=0)
    real_load = pred.modality.load

    def load(path, prep=None):
        if str(path).endswith("a.png"):
            raise struct_error("unpack requires a buffer of 4 bytes")
        return real_load(path, prep)

    struct_error = __import__("struct").error
    monkeypatch.setattr(pred.modality, "load", load)
    out = list(pred.score([tmp_path / "a.png", tmp_path / "b.png"]))
    assert [p.status for p in out] == ["error", "ok"] and "error" in out[0].error


def test_checkpoint_checksum_refuses_changed_weights(make_tiny_ckpt, tmp_path) -> None:
    from dfdetect.checkpoint import CheckpointError, load_checkpoint

    ck = torch.load(make_tiny_ckpt(), weights_only=True)
    name = next(k for k, v in ck["state_dict"].items() if v.is_floating_point() and v.numel() > 8)
    ck["state_dict"][name].view(-1)[3] += 1.0  # one changed value
    torch.save(ck, tmp_path / "changed.ckpt")
    with pytest.raises(CheckpointError, match="checksum"):
        load_checkpoint(tmp_path / "changed.ckpt")


def test_checkpoint_without_checksum_loads_with_one_warning(make_tiny_ckpt, tmp_path,
                                                            caplog) -> None:
    from dfdetect.checkpoint import load_checkpoint

    ck = torch.load(make_tiny_ckpt(), weights_only=True)
    del ck["weights_sha256"]
    torch.save(ck, tmp_path / "old.ckpt")
    with caplog.at_level(logging.WARNING):
        model, meta = load_checkpoint(tmp_path / "old.ckpt")
    assert meta["model"]["name"] == "timm:resnet18"
    warned = [r for r in caplog.records if "checksum" in r.getMessage()]
    assert len(warned) == 1 and "\n" not in warned[0].getMessage()


@pytest.mark.parametrize("key,value", [("image_size", 20000), ("seconds", 1e6),
                                       ("sample_rate", 0), ("image_size", float("nan"))])
def test_checkpoint_sizes_are_bounded_at_load(key, value, make_tiny_ckpt, tmp_path) -> None:
    from dfdetect.checkpoint import CheckpointError, load_checkpoint

    ck = torch.load(make_tiny_ckpt(), weights_only=True)
    ck["preprocessing"][key] = value
    torch.save(ck, tmp_path / "big.ckpt")
    with pytest.raises(CheckpointError, match=f"preprocessing.{key}"):
        load_checkpoint(tmp_path / "big.ckpt")


def test_truncated_video_is_scored_as_partial(tmp_path) -> None:
    from dfdetect.demo.clips import astronaut_face, moving_face_frames, write_video
    from dfdetect.inference.video import crop_provider

    clip = write_video(tmp_path / "face.mp4", moving_face_frames(astronaut_face(), n=40,
                                                                 size=(128, 112)),
                       gop=4, faststart=True)
    data = clip.read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: int(len(data) * 0.3)])
    provider = crop_provider({"image_size": 32}, num_frames=8)
    whole, cut = provider(str(clip)), provider(str(tmp_path / "cut.mp4"))
    assert whole and not getattr(whole, "note", "")
    assert cut and "truncated" in cut.note and "of 40 frames" in cut.note


def test_cli_prints_undecodable_names_without_crashing(make_tiny_ckpt, tmp_path) -> None:
    """A strict UTF-8 terminal: the summary and warnings name a non-UTF-8 file as escapes."""
    import subprocess
    import sys

    from PIL import Image

    folder = tmp_path / "in"
    folder.mkdir()
    Image.new("RGB", (40, 40), "gray").save(folder / LATIN1)
    (folder / os.fsdecode(b"bad\xff.png")).write_bytes(b"not an image")
    src = os.path.dirname(os.path.dirname(__import__("dfdetect").__file__))  # the code under test
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict", "PYTHONPATH": src}
    done = subprocess.run([sys.executable, "-m", "dfdetect.cli.main", "predict",
                           f"ckpt={make_tiny_ckpt()}", f"input={folder}",
                           f"out={tmp_path / 'out.csv'}", "device=cpu", "num_workers=0",
                           "progress=false"], capture_output=True, env=env, timeout=120)
    text = (done.stdout + done.stderr).decode("utf-8", "replace")
    assert done.returncode == 0, text
    assert "Traceback" not in text and "Logging error" not in text
    assert b"caf\xe9.png" in (tmp_path / "out.csv").read_bytes()


def test_audio_source_info_never_opens_a_fifo(tmp_path) -> None:
    """prepare convert_audio=false reads each header: a FIFO must not block it."""
    from dfdetect.data.audio_prepare import source_info

    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    got: list = []
    t = threading.Thread(target=lambda: got.append(source_info(fifo)), daemon=True)
    t.start()
    t.join(10)
    if t.is_alive():
        with open(fifo, "wb"):
            pass
        t.join(5)
        pytest.fail("source_info opened the FIFO and blocked")
    assert got[0]["orig_sample_rate"] == ""
