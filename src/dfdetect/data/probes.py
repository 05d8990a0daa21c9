"""Cheap per-file properties for the label-shortcut check (:mod:`dfdetect.data.shortcuts`).

Images (PIL, header only except the JPEG double-compression score): container format, width,
height, pixels, file size, bytes per pixel, mode, JPEG quality estimated from the luminance
quantisation table, chroma subsampling, progressive, EXIF / ICC profile present. Videos (PyAV,
header only): container, codec, frame rate, width, height, bitrate, duration, audio track.

Example::

    image_properties(Path("a.jpg"))   # {'format': 'JPEG', 'width': 256, 'jpeg_quality': 92, ...}
    jpeg_quality_of([16, 11, 10, 16, ...])  # 50 for the IJG table at quality 50
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

# the IJG / JPEG Annex K luminance table, natural (row-major) order: quality 50
IJG_LUMA = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99], dtype=np.float64)
SUBSAMPLING = {0: "4:4:4", 1: "4:2:2", 2: "4:2:0"}
DQ_SIDE = 512              # the double-compression score reads at most this many pixels a side
DQ_POSITIONS = ((0, 1), (1, 0), (1, 1), (0, 2), (2, 0), (1, 2), (2, 1), (2, 2), (0, 3), (3, 0),
                (1, 3), (3, 1))  # low-frequency AC coefficients: enough counts per histogram


def ijg_table(quality: int) -> np.ndarray:
    """The luminance table libjpeg writes at ``quality`` (1-100)."""
    scale = 5000 / quality if quality < 50 else 200 - 2 * quality
    return np.clip(np.floor((IJG_LUMA * scale + 50) / 100), 1, 255)


def jpeg_quality_of(luma_table) -> int:
    """The IJG quality factor whose luminance table is nearest to ``luma_table`` (64 values in
    natural order, as PIL's ``im.quantization[0]``); exact for libjpeg / PIL / OpenCV files."""
    table = np.asarray(luma_table, dtype=np.float64)
    errors = [np.abs(ijg_table(q) - table).sum() for q in range(1, 101)]
    return int(np.argmin(errors)) + 1


def double_jpeg_score(im) -> float:
    """How much the histograms of low-frequency DCT coefficients (quantised by the file's own
    table) rise where they should fall: ~0.05 for a JPEG compressed once, several times more when
    an earlier, coarser compression on the same 8x8 grid left periodic gaps (double
    quantisation). Decodes the luma plane of at most :data:`DQ_SIDE` pixels a side."""
    from scipy.fft import dctn

    q = np.asarray(im.quantization[0], dtype=np.float64).reshape(8, 8)
    im.draft("L", im.size)  # libjpeg decodes the Y plane only, without colour conversion
    side_w, side_h = (min(DQ_SIDE, s) // 8 * 8 for s in im.size)
    y = np.asarray(im.convert("L").crop((0, 0, side_w, side_h)), dtype=np.float64)
    if y.size == 0:
        return 0.0
    blocks = (y - 128).reshape(side_h // 8, 8, side_w // 8, 8).transpose(0, 2, 1, 3)
    k = np.abs(np.rint(dctn(blocks, axes=(2, 3), norm="ortho") / q)).astype(np.int64)
    rises = total = 0.0
    for i, j in DQ_POSITIONS:
        hist = np.bincount(k[:, :, i, j].ravel(), minlength=40)[1:40].astype(np.float64)
        rises += np.clip(np.diff(hist), 0, None).sum()
        total += hist.sum()
    return float(rises / total) if total else 0.0


def _jpeg_properties(im) -> dict:
    from PIL import JpegImagePlugin

    out = {"chroma_subsampling": SUBSAMPLING.get(JpegImagePlugin.get_sampling(im), "other"),
           "progressive": bool(im.info.get("progressive") or im.info.get("progression"))}
    if getattr(im, "quantization", None):
        out["jpeg_quality"] = jpeg_quality_of(im.quantization[0])
        out["double_jpeg"] = round(double_jpeg_score(im), 4)
    return out


def image_properties(path: Path) -> dict:
    """The shortcut-relevant properties of one image file (see the module docstring)."""
    from PIL import Image

    size = Path(path).stat().st_size
    with Image.open(path) as im:
        w, h = im.size
        out = {"format": im.format or Path(path).suffix.lower().lstrip("."), "width": w,
               "height": h, "pixels": w * h, "file_size": size,
               "bytes_per_pixel": round(size / max(1, w * h), 4), "mode": im.mode,
               "exif": bool(im.info.get("exif")) or bool(im.getexif()),
               "icc_profile": bool(im.info.get("icc_profile"))}
        if im.format == "JPEG":
            out.update(_jpeg_properties(im))
    return out


def video_properties(path: Path) -> dict:
    """Container, codec, frame rate, size, bitrate (kbit/s), duration (s) and whether there is
    an audio track, from the header; raises ValueError when PyAV cannot open the file."""
    import av

    try:
        with av.open(str(path)) as c:
            if not c.streams.video:
                raise ValueError(f"{path}: no video stream")
            v = c.streams.video[0]
            rate = v.average_rate or v.guessed_rate
            out = {"container": c.format.name, "codec": v.codec_context.name,
                   "fps": round(float(rate), 3) if rate else None,
                   "width": v.codec_context.width, "height": v.codec_context.height,
                   "bitrate_kbps": round(c.bit_rate / 1000, 1) if c.bit_rate else None,
                   "duration": round(c.duration / 1e6, 3) if c.duration else None,
                   "audio_track": bool(c.streams.audio),
                   "file_size": Path(path).stat().st_size}
    except av.FFmpegError as e:
        raise ValueError(f"{path}: {e}") from e
    return {k: v for k, v in out.items() if v is not None}


@lru_cache(maxsize=4096)
def cached_video_properties(path: str) -> dict:
    """:func:`video_properties`, once per video (a prepared manifest has many crops of each)."""
    return video_properties(Path(path))
