"""prepare's crop settings travel to predict: prepare (margin 0.5) -> train -> checkpoint ->
the video crop provider cuts the same crops prepare cut."""
from __future__ import annotations

import logging

import numpy as np
import pytest

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    from dfdetect.config.schema import PrepareConfig
    from dfdetect.preparation import prepare
    from dfdetect.demo.clips import astronaut_face, moving_face_frames, write_video

    root = tmp_path_factory.mktemp("crop_settings")
    face = astronaut_face()
    for i, name in enumerate(["real/a", "real/b", "fake/c", "fake/d"]):
        write_video(root / "v" / f"{name}.mp4",
                    moving_face_frames(face, n=6, size=(160, 128), seed=i, zoom=0.05))
    m = prepare(PrepareConfig(data="folder", root=str(root / "v"), out=str(root / "p"),
                              frames_per_video=2, min_face_size=20, image_size=40, margin=0.5,
                              split_ratio="0.5,0.5"), echo=lambda _: None)
    from dfdetect.data.manifest import write_manifest

    for s in m.samples:  # both classes in train and in val (train refuses a one-class split)
        s.split = "train" if s.extra["video_id"] in ("real/a.mp4", "fake/c.mp4") else "val"
    write_manifest(m, root / "p" / "manifest.csv")
    return root, m


def _mean_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(float) - b.astype(float)).mean())


def test_checkpoint_carries_prepare_crop_settings_and_predict_crops_with_them(prepared,
                                                                              caplog) -> None:
    import cv2

    from dfdetect.checkpoint import read_checkpoint
    from dfdetect.config.loader import load_config
    from dfdetect.config.schema import TrainConfig
    from dfdetect.data.image import load_image
    from dfdetect.inference.video import crop_provider
    from dfdetect.training.recipe import train

    root, m = prepared
    cfg = load_config(TrainConfig, [
        "model=timm:resnet18", "image_size=32", "batch_size=4", "num_workers=0", "device=cpu",
        "progress=false", "epochs=1", "limit_train_batches=1", "limit_val_batches=1",
        f"data={root / 'p' / 'manifest.csv'}", f"out_dir={root / 'runs'}", "name=crop"])
    result = train(cfg, echo=lambda *_: None)
    prep = read_checkpoint(result.best_ckpt)["preprocessing"]
    assert prep["crop"]["margin"] == 0.5 and prep["crop"]["image_size"] == 40
    assert prep["crop"]["detector"] == "mtcnn" and prep["image_size"] == 32

    with caplog.at_level(logging.WARNING, logger="dfdetect.inference.video"):
        provider = crop_provider(prep, num_frames=2)
    assert not caplog.records  # nothing to warn about: the record is there
    assert provider.settings.margin == 0.5 and provider.settings.image_size == 40
    default = crop_provider({k: v for k, v in prep.items() if k != "crop"}, num_frames=2)
    assert "records no prepare crop settings" in caplog.text  # the old checkpoint path says so

    row = next(s for s in m.samples if s.extra["video_id"] == "real/a.mp4")
    prepared_crop = load_image(m.resolve(row))  # what training saw for this frame
    crops = dict(provider(str(root / "v" / "real" / "a.mp4")))
    same = crops[int(row.extra["frame"])]
    assert same.shape == prepared_crop.shape == (40, 40, 3)
    assert _mean_diff(same, prepared_crop) < 4.0  # same box: only JPEG noise apart
    other = dict(default(str(root / "v" / "real" / "a.mp4")))[int(row.extra["frame"])]
    other = cv2.resize(other, (40, 40), interpolation=cv2.INTER_AREA)
    assert _mean_diff(other, prepared_crop) > 20  # margin 0.2: another square
