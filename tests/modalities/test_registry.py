"""The modality registry, and that stages ask the modality instead of branching on its name.

A fake modality registered for one test ("hologram": its own extensions and default monitor)
must be honoured by predict's folder listing, by train's monitor default, by the prepare stage
and by the robustness default, with no stage knowing its name.
"""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from dfdetect.config.schema import PrepareConfig, TrainConfig
from dfdetect.data.manifest import ManifestError, Sample
from dfdetect.modalities import (MODALITIES, Modality, all_modalities, get_modality,
                                 manifest_modality, modality_of_file, scored_extensions)


class Hologram(Modality):
    name = "hologram"
    extensions = frozenset({".holo"})
    default_monitor = "val/auc"
    perturbations = ("flicker",)


@pytest.fixture
def hologram(monkeypatch):
    get_modality("image")  # built-ins first, so the fake is an addition
    monkeypatch.setitem(MODALITIES._items, "hologram", Hologram)
    return get_modality("hologram")


def _rows(*kinds: str) -> list[Sample]:
    return [Sample(id=f"{k}{i}", path=f"{k}{i}", label="real", modality=k)
            for i, k in enumerate(kinds)]


def test_builtin_modalities_are_registered_with_their_parts():
    assert [m.name for m in all_modalities()] == ["audio", "frame", "image", "video"]
    image, audio, video = (get_modality(n) for n in ("image", "audio", "video"))
    assert ".jpg" in image.extensions and ".flac" in audio.extensions
    assert ".mp4" in video.extensions
    assert image.perturbations == ("jpeg", "blur", "resize")
    assert audio.perturbations == ("mp3", "opus", "noise", "resample8k")
    assert video.perturbations == ("h264",)
    assert (image.default_monitor, audio.default_monitor) == ("", "val/eer")
    assert image.score_transform is None and callable(audio.score_transform)
    assert video.per_frame and get_modality("frame").video_level and video.needs_prepare
    assert {m.trains_as for m in (image, video, get_modality("frame"))} == {"image"}
    assert audio.words.rows == "clips" and "frame" not in audio.words.level("frame")


def test_example_inputs_have_the_checkpoint_shape():
    g = torch.Generator().manual_seed(0)
    img = get_modality("image").example_input({"image_size": 40}, 2, g)
    wav = get_modality("audio").example_input({"sample_rate": 8000, "seconds": 0.5}, 3, g)
    assert img.shape == (2, 3, 40, 40) and wav.shape == (3, 4000)


def test_export_sample_inputs_come_from_the_modality():
    from dfdetect.inference.export import sample_inputs

    image = sample_inputs({"preprocessing": {"modality": "image", "image_size": 32}}, (1, 3))
    g = torch.Generator().manual_seed(0)  # unchanged for images: same draws as before
    assert all(torch.equal(a, torch.randn(b, 3, 32, 32, generator=g))
               for a, b in zip(image, (1, 3)))
    audio = sample_inputs({"preprocessing": {"modality": "audio", "sample_rate": 16000,
                                             "seconds": 0.25}}, (1, 3))
    assert [tuple(x.shape) for x in audio] == [(1, 4000), (3, 4000)]


def test_training_manifest_modality():
    assert manifest_modality(_rows("image", "frame")).name == "image"  # frames train as images
    assert manifest_modality(_rows("audio")).name == "audio"
    with pytest.raises(ManifestError, match="run `dfdetect prepare` first"):
        manifest_modality(_rows("video", "image"))
    with pytest.raises(ManifestError, match="one modality"):
        manifest_modality(_rows("image", "audio"))


def test_predict_lists_the_extensions_of_the_checkpoint_modality(hologram, tmp_path):
    from dfdetect.config.schema import PredictConfig
    from dfdetect.inference.predict import media_extensions, resolve_inputs

    for name in ("a.holo", "b.jpg", "c.mp4", "d.wav"):
        (tmp_path / name).write_bytes(b"x")
    assert media_extensions({"modality": "hologram"}) == {".holo"}
    items = resolve_inputs(PredictConfig(input=str(tmp_path)),
                           media_extensions({"modality": "hologram"}))
    assert [(i.id, i.video) for i in items] == [("a.holo", False)]
    items = resolve_inputs(PredictConfig(input=str(tmp_path)), media_extensions({}))
    assert [(i.id, i.video) for i in items] == [("b.jpg", False), ("c.mp4", True)]
    assert scored_extensions(get_modality("audio")) == get_modality("audio").extensions
    assert modality_of_file("x.HOLO") is not None and modality_of_file("x.HOLO").name == "hologram"


def test_train_takes_the_default_monitor_from_the_modality(hologram):
    from dfdetect.training.recipe import _modality_defaults

    said = []
    cfg = _modality_defaults(TrainConfig(), hologram, said.append)
    assert cfg.trainer.monitor == "val/auc" and "chosen by val/auc" in said[0]
    chosen = TrainConfig()
    chosen.trainer.monitor = "val/loss"
    assert _modality_defaults(chosen, hologram, said.append).trainer.monitor == "val/loss"
    assert _modality_defaults(TrainConfig(), get_modality("image"), said.append) \
        .trainer.monitor == TrainConfig().trainer.monitor


def test_robustness_default_comes_from_the_rows_modalities(hologram):
    from dfdetect.evaluation.evaluate import sweep_spec

    assert sweep_spec("default", _rows("image")) == "jpeg,blur,resize"
    assert sweep_spec("default", _rows("frame")) == "h264,jpeg,blur,resize"  # crops of videos
    assert set(sweep_spec("default", _rows("image", "frame")).split(",")) == {
        "h264", "jpeg", "blur", "resize"}
    assert sweep_spec("default", _rows("audio")) == "mp3,opus,noise,resample8k"
    assert sweep_spec("default", _rows("hologram")) == "flicker"
    assert sweep_spec("jpeg:50", _rows("audio")) == "jpeg:50"


def test_prepare_runs_each_present_modality_s_step(tmp_path, monkeypatch, demo_faces):
    from dfdetect.modalities.image import ImageModality
    from dfdetect.preparation import prepare

    seen = []

    def step(self, manifest, cfg, out, echo=print):
        seen.append((self.name, len([s for s in manifest.samples if self.owns(s)]), out))
        return manifest, out

    monkeypatch.setattr(ImageModality, "prepare", step)
    folder = demo_faces.parent / "images"
    m = prepare(PrepareConfig(data="folder", root=str(folder), out=str(tmp_path / "p")),
                echo=lambda _: None)
    assert seen == [("image", len(m), tmp_path / "p" / "manifest.csv")]
    assert (tmp_path / "p" / "manifest.csv").is_file()


def test_a_model_of_another_modality_is_refused():
    from dfdetect.models import ModelError

    cfg = SimpleNamespace(image_size=32)
    with pytest.raises(ModelError, match="pick an image model"):
        get_modality("image").preprocessing(cfg, SimpleNamespace(modality="audio"))
