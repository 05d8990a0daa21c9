"""Perturbations of the robustness sweep (dfdetect.evaluation.robustness)."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

from dfdetect.config.loader import ConfigError
from dfdetect.evaluation.robustness import LEVELS, parse_sweep
from dfdetect.registry import RegistryError


def _image() -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.random((40, 60, 3)) * 255).astype(np.uint8)  # noise: every perturbation shows


def test_default_levels_and_explicit_levels() -> None:
    sweep = parse_sweep("jpeg,blur:1/3,resize")
    assert [(n, lv) for n, lv, _ in sweep] == (
        [("jpeg", float(q)) for q in LEVELS["jpeg"]] + [("blur", 1.0), ("blur", 3.0)]
        + [("resize", f) for f in LEVELS["resize"]])


def test_each_perturbation_changes_the_image_as_described() -> None:
    img = _image()
    (_, _, jpeg), = parse_sweep("jpeg:30")
    (_, _, blur), = parse_sweep("blur:2")
    (_, _, small), = parse_sweep("resize:0.5")
    j, b, r = jpeg(img), blur(img), small(img)
    assert j.shape == img.shape and j.dtype == np.uint8 and not np.array_equal(j, img)
    assert b.shape == img.shape and b.astype(float).std() < img.astype(float).std() / 2
    assert r.shape == (20, 30, 3)
    # stronger JPEG loses more
    (_, _, mild), = parse_sweep("jpeg:95")
    err = lambda x: np.abs(x.astype(float) - img).mean()  # noqa: E731
    assert err(mild(img)) < err(j)


def test_perturbations_pickle_for_loader_workers() -> None:
    for _, _, fn in parse_sweep("jpeg:50,blur:1,resize:0.5"):
        pickle.loads(pickle.dumps(fn))


@pytest.mark.parametrize("spec,error", [("jpeg:0", ConfigError), ("blur:-1", ConfigError),
                                        ("resize:2", ConfigError), ("jpeg:high", ConfigError),
                                        ("jpg", RegistryError)])
def test_bad_specs_are_user_errors(spec, error) -> None:
    with pytest.raises(error):
        parse_sweep(spec)
