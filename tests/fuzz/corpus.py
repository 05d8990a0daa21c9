"""A generator of hostile inputs, built into a temporary folder (nothing is stored in the repo).

``build_images(root)``, ``build_videos(root)``, ``build_audio(root)`` write media files and
return :class:`Entry` records: the file, and what a correct reader must say about it
(``ok``: scored; ``error``: an error row; ``partial``: scored with a note; ``any``: scored or an
error row, as long as it is one row and no crash). ``special_paths(root)`` gives paths that are
not regular files (FIFO, devices, a symlink loop, a directory, a missing file) for manifests.
``build_checkpoints(root, good)`` crafts hostile checkpoints from a good one.

Each family: truncations at several cut points of valid files, zero bytes, random bytes, lying
headers, decompression bombs, extreme sizes and aspect ratios, odd sample rates and channel
counts, hostile file names (non-UTF-8 bytes, unicode, newline, comma, spreadsheet formulas).
"""
from __future__ import annotations

import io
import os
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CUTS = (0.01, 0.1, 0.5, 0.9)  # truncation points, as fractions of the valid file


@dataclass
class Entry:
    path: Path
    expect: str  # ok | error | partial | any
    kind: str    # image | video | audio | special


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _png(arr: np.ndarray, mode: str | None = None) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(arr, mode=mode).save(buf, format="PNG")
    return buf.getvalue()


def _jpeg(arr: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def _face_like(size: int = 40, seed: int = 0) -> np.ndarray:
    return _rng(seed).integers(0, 255, (size, size, 3), dtype=np.uint8)


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _bomb_png(width: int, height: int) -> bytes:
    """A 1-bit PNG of width x height pixels (~20 KB on disk, gigabytes decoded as RGB)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("1", (width, height)).save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def _lying_png(width: int, height: int) -> bytes:
    """A PNG signature and IHDR claiming width x height, then no image data."""
    import zlib

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk + b"\x00\x00\x00\x00IEND\xaeB`\x82"


def build_images(root: Path) -> list[Entry]:
    """Hostile and odd images (plus a few valid controls)."""
    from PIL import Image

    out: list[Entry] = []
    add = lambda name, data, expect: out.append(Entry(_write(root / name, data), expect, "image"))  # noqa: E731
    good_png, good_jpg = _png(_face_like()), _jpeg(_face_like(seed=1))
    add("good.png", good_png, "ok")
    add("good.jpg", good_jpg, "ok")
    for cut in CUTS:
        add(f"cut{int(cut * 100):02d}.png", good_png[: max(1, int(len(good_png) * cut))], "error")
        add(f"cut{int(cut * 100):02d}.jpg", good_jpg[: max(1, int(len(good_jpg) * cut))], "any")
    add("zero.jpg", b"", "error")
    add("random.png", _rng(1).bytes(4096), "error")
    add("lying_header.png", _lying_png(60000, 60000), "error")
    add("bomb_144mp.png", _bomb_png(12000, 12000), "error")
    add("tiny_1x1.png", _png(np.zeros((1, 1, 3), np.uint8)), "error")
    add("strip_1x3000.png", _png(np.zeros((1, 3000, 3), np.uint8)), "error")
    add("strip_3000x2.png", _png(np.zeros((3000, 2, 3), np.uint8)), "ok")
    add("gray16.png", _png((np.arange(40 * 40).reshape(40, 40) * 40).astype(np.uint16)), "ok")
    nan = np.full((8, 8), np.nan, np.float32)
    buf = io.BytesIO()
    Image.fromarray(nan, mode="F").save(buf, format="TIFF")
    add("nan.tif", buf.getvalue(), "error")
    buf = io.BytesIO()
    Image.fromarray(_face_like()).convert("CMYK").save(buf, format="JPEG")
    add("cmyk.jpg", buf.getvalue(), "ok")
    buf = io.BytesIO()
    Image.fromarray(_face_like()).convert("P").save(buf, format="BMP")
    add("palette.bmp", buf.getvalue(), "ok")
    for name in hostile_names():
        add(name, good_png, "ok")
    return out


def hostile_names() -> list[str]:
    """File names that break naive writers (each is a valid name on Linux)."""
    return [os.fsdecode(b"latin1_\xe9t\xe9.png"), "unicod\u00e9_\u6f22\u5b57_\U0001f600.png",
            "new\nline.png", "com,ma \"quoted\".png", "=cmd|' -C calc'!A0.png", "+SUM(1).png",
            "-2+3.png", "@SUM(1).png"]


def _h264(path: Path, frames: list[np.ndarray], faststart: bool = True) -> Path:
    from dfdetect.demo.clips import write_video

    return write_video(path, frames, gop=4, faststart=faststart)


def build_videos(root: Path) -> list[Entry]:
    """Hostile and odd videos (the face ones are scored, the rest are error rows)."""
    from dfdetect.demo.clips import astronaut_face, moving_face_frames

    root.mkdir(parents=True, exist_ok=True)
    out: list[Entry] = []
    face = moving_face_frames(astronaut_face(), n=40, size=(128, 112))
    good = _h264(root / "face.mp4", face)
    out.append(Entry(good, "ok", "video"))
    data = good.read_bytes()
    # cut at 30 %: the header (index first) announces 40 frames, ~12 survive
    out.append(Entry(_write(root / "cut30.mp4", data[: int(len(data) * 0.3)]), "partial", "video"))
    for cut in (0.01, 0.1):
        out.append(Entry(_write(root / f"cut{int(cut * 100):02d}.mp4", data[: int(len(data) * cut)]),
                         "error", "video"))
    out.append(Entry(_write(root / "zero.mp4", b""), "error", "video"))
    out.append(Entry(_write(root / "random.mp4", _rng(2).bytes(8192)), "error", "video"))
    out.append(Entry(_write(root / "lying.mp4", data[:64] + _rng(3).bytes(4096)), "error", "video"))
    for w, h in ((2, 2), (16, 16), (2000, 16), (16, 2000)):
        frames = [np.full((h, w, 3), 90 + 10 * i, np.uint8) for i in range(4)]
        out.append(Entry(_h264(root / f"size_{w}x{h}.mp4", frames), "error", "video"))
    return out


def _wav_header(rate: int, channels: int, n_bytes: int, bits: int = 16) -> bytes:
    block = channels * bits // 8
    return (b"RIFF" + struct.pack("<I", 36 + n_bytes) + b"WAVEfmt " +
            struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * block, block, bits) +
            b"data" + struct.pack("<I", n_bytes))


def _wav(rate: int, seconds: float = 1.0, channels: int = 1, seed: int = 0) -> bytes:
    import soundfile as sf

    n = max(1, int(rate * seconds))
    x = (0.3 * _rng(seed).standard_normal((n, channels))).astype(np.float32)
    buf = io.BytesIO()
    sf.write(buf, x, rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def build_audio(root: Path) -> list[Entry]:
    """Hostile and odd audio files."""
    import soundfile as sf

    out: list[Entry] = []
    add = lambda name, data, expect: out.append(Entry(_write(root / name, data), expect, "audio"))  # noqa: E731
    good = _wav(16000)
    add("good.wav", good, "ok")
    for cut in CUTS:
        add(f"cut{int(cut * 100):02d}.wav", good[: max(1, int(len(good) * cut))], "any")
    add("zero.wav", b"", "error")
    add("random.wav", _rng(4).bytes(4096), "error")
    add("rate0.wav", _wav_header(0, 1, 2000) + _rng(5).bytes(2000), "error")
    add("rate1hz.wav", _wav_header(1, 1, 4000) + _rng(6).bytes(4000), "error")
    add("rate8k.wav", _wav(8000), "ok")
    add("rate192k.wav", _wav(192000, 0.5), "ok")
    add("ch3.wav", _wav(16000, 0.5, channels=3), "ok")
    add("ch8.wav", _wav(16000, 0.5, channels=8), "ok")
    add("one_sample.wav", _wav(16000, 1 / 16000), "error")
    add("lying_length.wav", _wav_header(16000, 1, 10**9) + good[44:], "any")
    for name, values in (("nan.wav", np.full(16000, np.nan)), ("huge.wav", np.full(16000, 3e38))):
        buf = io.BytesIO()
        sf.write(buf, values.astype(np.float32), 16000, format="WAV", subtype="FLOAT")
        add(name, buf.getvalue(), "error")
    return out


def special_paths(root: Path) -> list[Entry]:
    """Paths that are not regular files: each must be an error row, never opened."""
    root.mkdir(parents=True, exist_ok=True)
    fifo = root / "fifo.png"
    os.mkfifo(fifo)
    loop_a, loop_b = root / "loop_a.png", root / "loop_b.png"
    loop_a.symlink_to(loop_b)
    loop_b.symlink_to(loop_a)
    folder = root / "folder.png"
    folder.mkdir()
    paths = [fifo, loop_a, folder, root / "missing.png", Path("/dev/zero"), Path("/dev/null")]
    if Path("/dev/urandom").exists():
        paths.append(Path("/dev/urandom"))
    return [Entry(p, "error", "special") for p in paths]


def write_manifest(path: Path, entries: list[Entry], modality: str = "image") -> Path:
    """A manifest CSV naming each entry's file by absolute path, ids ``f000``, ``f001``..."""
    from dfdetect.data.manifest import Manifest, Sample, write_manifest as write

    samples = [Sample(id=f"f{i:03d}", path=os.path.abspath(e.path), label=("real", "fake")[i % 2],
                      split="test", group=f"g{i}", modality=modality)
               for i, e in enumerate(entries)]
    return write(Manifest(samples, path.parent), path)


def build_checkpoints(root: Path, good: Path) -> dict[str, Path]:
    """Hostile checkpoints made from ``good`` (a dfdetect checkpoint): name -> file."""
    import pickle

    import torch

    root.mkdir(parents=True, exist_ok=True)
    ck = torch.load(good, map_location="cpu", weights_only=True)
    out: dict[str, Path] = {}

    def save(name: str, obj) -> None:
        out[name] = root / f"{name}.ckpt"
        torch.save(obj, out[name])

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {root / 'PWNED'}",))

    out["pickle_payload"] = root / "pickle_payload.ckpt"
    out["pickle_payload"].write_bytes(pickle.dumps({"format": "dfdetect-checkpoint", "x": Payload()}))
    out["zip_payload"] = root / "zip_payload.ckpt"
    torch.save({**ck, "evil": Payload()}, out["zip_payload"])  # a full pickle inside the zip
    save("no_model", {k: v for k, v in ck.items() if k != "model"})
    save("no_preprocessing", {k: v for k, v in ck.items() if k != "preprocessing"})
    save("no_state_dict", {k: v for k, v in ck.items() if k != "state_dict"})
    save("model_is_str", {**ck, "model": "timm:resnet18"})
    save("kwargs_wrong", {**ck, "model": {"name": ck["model"]["name"], "kwargs": {"bogus": 1}}})
    save("num_classes_1e9", {**ck, "model": {"name": ck["model"]["name"],
                                             "kwargs": {**ck["model"]["kwargs"],
                                                        "num_classes": 10**9}}})
    save("model_unknown", {**ck, "model": {"name": "no_such_model", "kwargs": {}}})
    save("image_size_20000", {**ck, "preprocessing": {**ck["preprocessing"], "image_size": 20000}})
    save("image_size_str", {**ck, "preprocessing": {**ck["preprocessing"], "image_size": "big"}})
    save("seconds_1e6", {**ck, "preprocessing": {**ck["preprocessing"], "seconds": 1e6}})
    save("threshold_nan", {**ck, "threshold": float("nan")})
    nan_sd = {k: (torch.full_like(v, float("nan")) if v.is_floating_point() else v)
              for k, v in ck["state_dict"].items()}
    save("nan_weights_unsigned", {k: v for k, v in {**ck, "state_dict": nan_sd}.items()
                                  if k != "weights_sha256"})
    save("nan_weights_signed_wrong", {**ck, "state_dict": nan_sd})
    save("wrong_shape", {**ck, "state_dict": {k: v[..., :1] if v.ndim else v
                                              for k, v in ck["state_dict"].items()}})
    save("not_a_dict", [1, 2, 3])
    save("other_format", {"format": "something-else"})
    data = good.read_bytes()
    for cut in (0.01, 0.5, 0.99):
        out[f"truncated_{int(cut * 100)}"] = _write(root / f"truncated_{int(cut * 100)}.ckpt",
                                                    data[: int(len(data) * cut)])
    out["zero_bytes"] = _write(root / "zero_bytes.ckpt", b"")
    out["bit_flips"] = _write(root / "bit_flips.ckpt", _corrupt_weights(data, "flip"))
    out["zeroed_bytes"] = _write(root / "zeroed_bytes.ckpt", _corrupt_weights(data, "zero"))
    return out


def _corrupt_weights(data: bytes, how: str) -> bytes:
    """Flip bits in (or zero a run of) the largest tensor record of a torch zip checkpoint,
    keeping the zip readable (stored records, so the bytes are the tensor's bytes)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = max((i for i in z.infolist() if "/data/" in i.filename), key=lambda i: i.file_size)
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26: info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len
    raw = bytearray(data)
    mid = start + info.file_size // 2
    if how == "flip":
        for k in range(0, 64, 8):
            raw[mid + k] ^= 0x40
    else:
        raw[mid: mid + 256] = bytes(256)
    return bytes(raw)
