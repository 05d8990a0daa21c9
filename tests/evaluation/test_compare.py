"""dfdetect compare: side-by-side table from metrics.json files."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from dfdetect.cli.main import main
from dfdetect.evaluation.compare import CompareError, comparison_table


def _report(folder: Path, auc: float, video: bool = False) -> Path:
    block = lambda a: {"metrics": {"n": 10, "auc": a, "eer": 0.2, "threshold": 0.4},  # noqa: E731
                       "ci": {}, "threshold": {}}
    levels = {"frame": block(auc)}
    if video:
        levels["video"] = block(auc + 0.05)
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text(json.dumps({
        "levels": levels, "split": "test", "threshold_source": "val:eer",
        "aggregation": {"strategy": "mean", "k": 3}}))
    return folder


def test_cli_positional_runs_print_one_table(tmp_path, capsys) -> None:
    _report(tmp_path / "a" / "eval" / "test", 0.8125)
    _report(tmp_path / "b", 0.9, video=True)
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"),
                 f"out={tmp_path / 'cmp.md'}"]) == 0
    text = capsys.readouterr().out
    header = text.splitlines()[0]
    assert header == "| metric | a/eval/test | b |"
    assert "| frame auc | 0.8125 | 0.9000 |" in text
    assert "| video auc | n/a | 0.9500 |" in text  # a has no video level: said, not invented
    assert "| threshold from | val:eer | val:eer |" in text
    assert (tmp_path / "cmp.md").read_text().strip() == text.strip()


def test_level_filter_and_legacy_report() -> None:
    legacy = {"overall": {"auc": 0.7, "n": 5}, "level": "sample"}
    table = comparison_table({"old": legacy}, level="sample")
    assert "| sample auc | 0.7000 |" in table


def test_missing_report_is_a_user_error(tmp_path, capsys) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(CompareError, match="no metrics.json"):
        from dfdetect.config.schema import CompareConfig
        from dfdetect.evaluation.compare import compare

        compare(CompareConfig(runs=str(tmp_path / "empty")))
    assert main(["compare", str(tmp_path / "empty")]) == 2
    assert "no metrics.json" in capsys.readouterr().err
