"""evaluate end to end on tiny untrained checkpoints: levels, threshold transfer, report files."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch

from dfdetect.config.schema import EvaluateConfig
from dfdetect.evaluation.evaluate import evaluate

pytestmark = pytest.mark.usefixtures("one_torch_thread")

QUIET = dict(device="cpu", num_workers=0, batch_size=32, bootstrap=50)


@pytest.fixture(scope="module")
def image_report(demo_faces, make_tiny_ckpt, tmp_path_factory):
    out = tmp_path_factory.mktemp("img_report")
    cfg = EvaluateConfig(ckpt=str(make_tiny_ckpt()), data=str(demo_faces), out=str(out),
                         robustness="jpeg:50,resize:0.5", mistakes=5, **QUIET)
    return cfg, evaluate(cfg, echo=lambda *_: None)


def test_image_report_files_and_stable_keys(image_report) -> None:
    cfg, result = image_report
    for name in ("metrics.json", "report.md", "predictions.csv", "roc.png", "roc_by_method.png",
                 "score_histogram.png", "confusion_matrix.png", "mistakes.png"):
        assert (result.out_dir / name).stat().st_size > 0, name
    report = json.loads((result.out_dir / "metrics.json").read_text())
    for key in ("schema_version", "checkpoint", "models", "backend", "data", "split",
                "aggregation", "level", "rows", "failed", "levels", "threshold_source",
                "overall", "ci", "by_method", "by_source", "robustness", "mistakes", "failures"):
        assert key in report, key
    assert report["level"] == "frame" and set(report["levels"]) == {"frame"}
    assert report["aggregation"] == {"strategy": "mean", "k": 3}
    for key in ("tpr_at_fpr_1", "tpr_at_fpr_5", "auc", "eer", "f1_macro"):
        assert key in report["overall"]
    assert report["ci"]["auc"]["n"] > 0 and report["ci"]["auc"]["low"] <= report["ci"]["auc"]["high"]
    assert list(report["by_method"]) == ["faceswap_blend"]
    assert [(r["perturbation"], r["level"]) for r in report["robustness"]] == [("jpeg", 50.0),
                                                                            ("resize", 0.5)]
    n_test = report["overall"]["n"]
    assert [r["n"] for r in report["robustness"]] == [n_test, n_test]  # every row rescored
    assert len(report["mistakes"]) <= 5
    md = (result.out_dir / "report.md").read_text()
    assert "## Frame level" in md and "| tpr_at_fpr_1 |" in md and "## Robustness" in md


class _HandScorer:
    """Scores written by hand per file name (a second table while a perturbation is applied)."""

    backend, threshold, batch_size = "torch", 0.5, 1
    meta = {"preprocessing": {"modality": "image"}}

    def __init__(self, clean: dict[str, float], perturbed: dict[str, float]) -> None:
        self.clean, self.perturbed, self.perturb = clean, perturbed, None

    def score(self, paths, progress=None):
        from dfdetect.inference.predictor import Prediction

        table = self.perturbed if self.perturb is not None else self.clean
        return [Prediction(str(p), table[Path(p).name]) for p in paths]


def _hand_manifest(tmp_path) -> Path:
    from dfdetect.data.manifest import Manifest, Sample, write_manifest

    rows = [("v_r1", "real", "val"), ("v_r2", "real", "val"), ("v_r3", "real", "val"),
            ("v_f1", "fake", "val"), ("v_f2", "fake", "val"), ("v_f3", "fake", "val"),
            ("t_r1", "real", "test"), ("t_r2", "real", "test"),
            ("t_f1", "fake", "test"), ("t_f2", "fake", "test")]
    samples = [Sample(id=i, path=f"{i}.jpg", label=lab, split=sp, group=i) for i, lab, sp in rows]
    return write_manifest(Manifest(samples, tmp_path, "hand"), tmp_path / "hand.csv")


def test_threshold_is_chosen_on_val_and_applied_to_test(tmp_path, monkeypatch) -> None:
    import dfdetect.evaluation.evaluate as ev

    # val: reals 0.10 0.30 0.45, fakes 0.40 0.70 0.90. At 0.45 one fake of three is missed
    # (0.40) and one real of three is flagged (0.45): misses = false alarms, so the EER
    # threshold is 0.45 (EER 1/3). Chosen on the test scores instead it would be 0.50.
    val = {"v_r1.jpg": 0.10, "v_r2.jpg": 0.30, "v_r3.jpg": 0.45,
           "v_f1.jpg": 0.40, "v_f2.jpg": 0.70, "v_f3.jpg": 0.90}
    test = {"t_r1.jpg": 0.46, "t_r2.jpg": 0.60, "t_f1.jpg": 0.50, "t_f2.jpg": 0.30}
    # under the perturbation every test fake scores below every test real: AUC 0
    flipped = {"t_r1.jpg": 0.8, "t_r2.jpg": 0.9, "t_f1.jpg": 0.1, "t_f2.jpg": 0.2}
    monkeypatch.setattr(ev, "build_scorer",
                        lambda *a, **k: _HandScorer({**val, **test}, {**val, **flipped}))
    cfg = EvaluateConfig(ckpt="hand.ckpt", data=str(_hand_manifest(tmp_path)), split="test",
                         out=str(tmp_path / "r"), robustness="jpeg:50", bootstrap=0,
                         device="cpu", num_workers=0)
    result = evaluate(cfg, echo=lambda *_: None)
    thr = result.report["levels"]["frame"]["threshold"]
    assert thr == {"value": pytest.approx(0.45), "source": "val:eer", "rule": "eer",
                   "split": "val"}
    rows = csv.DictReader((result.out_dir / "predictions.csv").open())
    preds = {p["id"]: p["pred"] for p in rows}
    # fake when score >= 0.45; at 0.5 (fixed, or chosen on test) t_r1 would be called real
    assert preds == {"t_r1": "fake", "t_r2": "fake", "t_f1": "fake", "t_f2": "real"}
    assert result.metrics["accuracy"] == pytest.approx(0.25)
    assert result.metrics["auc"] == pytest.approx(0.25)  # 1 of 4 (fake, real) pairs ordered
    assert [(r["perturbation"], r["n"], r["auc_frame"]) for r in result.report["robustness"]] \
        == [("jpeg", 4, 0.0)]


def test_given_threshold_and_checkpoint_fallback(demo_faces, make_tiny_ckpt, tmp_path) -> None:
    ckpt = str(make_tiny_ckpt(threshold=0.42))
    given = evaluate(EvaluateConfig(ckpt=ckpt, data=str(demo_faces), out=str(tmp_path / "a"),
                                    threshold=0.3, **QUIET), echo=lambda *_: None)
    assert given.report["threshold_source"] == "given" and given.metrics["threshold"] == 0.3
    kept = evaluate(EvaluateConfig(ckpt=ckpt, data=str(demo_faces), out=str(tmp_path / "b"),
                                   threshold_split="", bootstrap=0, device="cpu",
                                   num_workers=0), echo=lambda *_: None)
    assert kept.metrics["threshold"] == pytest.approx(0.42)
    assert kept.report["threshold_source"].startswith("checkpoint")
    assert kept.report["ci"] == {}


def test_video_level_with_frame_manifest(frame_manifest, make_tiny_ckpt, tmp_path) -> None:
    cfg = EvaluateConfig(ckpt=str(make_tiny_ckpt()), data=str(frame_manifest),
                         out=str(tmp_path), aggregation="max", **QUIET)
    result = evaluate(cfg, echo=lambda *_: None)
    report = result.report
    assert report["level"] == "video" and set(report["levels"]) == {"frame", "video"}
    frames = list(csv.DictReader((tmp_path / "predictions.csv").open()))
    videos = {r["id"]: r for r in csv.DictReader((tmp_path / "videos.csv").open())}
    assert report["levels"]["frame"]["metrics"]["n"] == len(frames)
    assert report["overall"]["n"] == len(videos) < len(frames)
    # the video score is the max of its frames (aggregation=max), recorded in the report
    for vid, v in videos.items():
        mine = [float(f["score"]) for f in frames if f["video"] == vid]
        assert float(v["score"]) == pytest.approx(max(mine), abs=1e-6)
        assert int(v["n_frames"]) == len(mine)
    assert report["aggregation"]["strategy"] == "max"
    assert report["levels"]["video"]["threshold"]["source"] == "val:eer"
    assert report["levels"]["video"]["units"] == len(videos)
    assert "## Video level" in (tmp_path / "report.md").read_text()


def test_ensemble_of_two_input_sizes(demo_faces, make_tiny_ckpt, tmp_path) -> None:
    a, b = make_tiny_ckpt(32, seed=0), make_tiny_ckpt(48, seed=1)
    one = {n: evaluate(EvaluateConfig(ckpt=str(c), data=str(demo_faces), out=str(tmp_path / n),
                                      bootstrap=0, device="cpu", num_workers=0),
                       echo=lambda *_: None) for n, c in (("a", a), ("b", b))}
    both = evaluate(EvaluateConfig(ckpt=f"{a}:0.75,{b}:0.25", data=str(demo_faces),
                                   out=str(tmp_path / "ab"), bootstrap=0, device="cpu",
                                   num_workers=0), echo=lambda *_: None)
    score = {}
    for name in ("a", "b", "ab"):
        score[name] = {r["id"]: float(r["score"])
                       for r in csv.DictReader((tmp_path / name / "predictions.csv").open())}
    for key, s in score["ab"].items():
        assert s == pytest.approx(0.75 * score["a"][key] + 0.25 * score["b"][key], abs=2e-6)
    assert [m["weight"] for m in both.report["models"]] == [0.75, 0.25]


def test_save_threshold_writes_it_into_the_checkpoint(demo_faces, make_tiny_ckpt, tmp_path) -> None:
    import shutil

    from dfdetect.checkpoint import read_checkpoint
    from dfdetect.config.loader import ConfigError

    ckpt = shutil.copy(make_tiny_ckpt(), tmp_path / "best.ckpt")
    result = evaluate(EvaluateConfig(ckpt=str(ckpt), data=str(demo_faces), out=str(tmp_path / "r"),
                                     save_threshold=True, bootstrap=0, device="cpu",
                                     num_workers=0), echo=lambda *_: None)
    stored = read_checkpoint(ckpt)
    assert stored["threshold"] == pytest.approx(result.metrics["threshold"])
    assert stored["threshold_source"].startswith("val:eer at frame level")
    with pytest.raises(ConfigError, match="exactly one"):
        evaluate(EvaluateConfig(ckpt=f"{ckpt},{ckpt}", data=str(demo_faces), bootstrap=0,
                                out=str(tmp_path / "e"), save_threshold=True, device="cpu",
                                num_workers=0), echo=lambda *_: None)


def _image_folder(root, n_per_class: int = 6):
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for label in ("real", "fake"):
        (root / label).mkdir(parents=True)
        for i in range(n_per_class):
            Image.fromarray(rng.integers(0, 255, (24, 24, 3), dtype=np.uint8)).save(
                root / label / f"{label}_{i}.png")
    return root


def test_plain_folder_is_scored_whole_and_the_summary_says_so(make_tiny_ckpt, tmp_path) -> None:
    folder = _image_folder(tmp_path / "held_out")
    lines: list[str] = []
    cfg = EvaluateConfig(ckpt=str(make_tiny_ckpt()), data=str(folder), out=str(tmp_path / "r"),
                         mistakes=0, **{**QUIET, "bootstrap": 0})
    result = evaluate(cfg, echo=lines.append)
    assert result.report["rows"] == 12 and result.metrics["n"] == 12  # not only a test split
    assert result.report["split"] == "all" and result.report["unsplit_input"] is True
    assert "(scored all 12 files: the input has no split)" in lines[-1]
    assert "scored all 12 files" in (result.out_dir / "report.md").read_text()
    # no val split to tune on and the untrained checkpoint holds no chosen threshold: said loudly
    assert result.report["threshold_source"].startswith("DEFAULT 0.5")
    assert lines[-1].startswith("WARNING: the decision threshold is a DEFAULT 0.5")
    with (result.out_dir / "predictions.csv").open() as f:
        assert len(list(csv.DictReader(f))) == 12


def test_manifest_with_splits_still_scores_only_the_test_split(image_report, demo_faces) -> None:
    from dfdetect.data.manifest import read_manifest

    cfg, result = image_report
    n_test = len(read_manifest(demo_faces).where(split="test"))
    assert result.report["rows"] == n_test < len(read_manifest(demo_faces))
    assert result.report["split"] == "test" and not result.report["unsplit_input"]


def test_labels_csv_extra_column_survives_prepare_and_breaks_down_evaluate(make_tiny_ckpt,
                                                                          tmp_path) -> None:
    """labels CSV (generator, difficulty) -> prepare -> manifest -> evaluate by=generator."""
    import numpy as np
    from PIL import Image

    from dfdetect.config.loader import ConfigError
    from dfdetect.config.schema import PrepareConfig
    from dfdetect.data.manifest import read_manifest
    from dfdetect.preparation import prepare

    rng = np.random.default_rng(0)
    lines = ["path,label,generator,difficulty"]
    rows = [("real", "", "easy")] * 4 + [("fake", "sd15", "easy")] * 3
    rows += [("fake", "flux", "hard")] * 2 + [("real", "", "hard")]
    for i, (label, gen, diff) in enumerate(rows):
        pixels = rng.integers(0, 255, (24, 24, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(tmp_path / f"{i}.png")
        lines.append(f"{i}.png,{label},{gen},{diff}")
    (tmp_path / "labels.csv").write_text("\n".join(lines) + "\n")
    prepare(PrepareConfig(data="labels_csv", root=str(tmp_path / "labels.csv"),
                          out=str(tmp_path / "manifest.csv")), echo=lambda _: None)
    m = read_manifest(tmp_path / "manifest.csv")
    fakes = sorted(s.extra["generator"] for s in m.samples if s.label == "fake")
    assert fakes == ["flux"] * 2 + ["sd15"] * 3
    assert {s.extra["difficulty"] for s in m.samples} == {"easy", "hard"}

    out = tmp_path / "report"
    cfg = EvaluateConfig(ckpt=str(make_tiny_ckpt()), data=str(tmp_path / "manifest.csv"),
                         split="all", out=str(out), by="generator,difficulty", mistakes=0,
                         **{**QUIET, "bootstrap": 0})
    evaluate(cfg, echo=lambda *_: None)
    report = json.loads((out / "metrics.json").read_text())
    gen = report["by"]["generator"]
    assert {k: (v["n_real"], v["n_fake"], v["reals"]) for k, v in gen.items()} == {
        "flux": (5, 2, "all"), "sd15": (5, 3, "all")}  # fakes of a generator vs every real
    diff = report["levels"]["frame"]["by"]["difficulty"]
    assert {k: (v["n_real"], v["n_fake"]) for k, v in diff.items()} == {"easy": (4, 3),
                                                                       "hard": (1, 2)}
    md = (out / "report.md").read_text()
    assert "### By generator (frame level)" in md and "| sd15 | 8 | 5 | 3 |" in md
    assert "### By difficulty (frame level)" in md and "| hard | 3 | 1 | 2 |" in md

    bad = EvaluateConfig(**{**cfg.__dict__, "by": "genrator", "out": str(tmp_path / "report2")})
    with pytest.raises(ConfigError, match=r"by=genrator.*available columns: difficulty, generator"):
        evaluate(bad, echo=lambda *_: None)
