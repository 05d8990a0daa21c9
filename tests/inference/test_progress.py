"""Progress of evaluate and predict: files done, rate, ETA; plain lines outside a terminal."""
from __future__ import annotations

import io
import shutil

import pytest

from dfdetect.config.schema import EvaluateConfig, PredictConfig
from dfdetect.inference.progress import FileProgress


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_plain_lines_every_interval_with_rate_and_eta_then_a_last_line() -> None:
    out, clock = io.StringIO(), Clock()
    with FileProgress(100, "evaluate test", stream=out, interval=10, clock=clock) as bar:
        clock.t += 5
        bar.update(10)  # 5 s: not yet
        clock.t += 5
        bar.update(10)  # 10 s: 20 files, 2 files/s, 80 left -> 40 s
        clock.t += 3
        bar.update(20)  # 13 s: only 3 s since the last line
        clock.t += 27
        bar.update(60)  # 40 s: done, the last line follows
    assert out.getvalue().splitlines() == [
        "evaluate test: 20/100 files (20%) · 2.0 files/s · ETA 0:00:40",
        "evaluate test: 100/100 files · 2.5 files/s · 0:00:40"]
    assert "\r" not in out.getvalue()


def test_disabled_or_empty_prints_nothing() -> None:
    for bar in (FileProgress(5, "predict", enabled=False, stream=io.StringIO()),
                FileProgress(0, "predict", stream=io.StringIO())):
        with bar:
            bar.update(5)
        assert bar.stream.getvalue() == ""


def test_a_terminal_gets_a_bar_not_lines() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Tty()
    with FileProgress(4, "predict", stream=out, interval=0) as bar:
        bar.update(4)
    assert "predict:" in out.getvalue() and "file/s" in out.getvalue()  # tqdm's own format
    assert "files · " not in out.getvalue()


@pytest.mark.usefixtures("one_torch_thread")
def test_evaluate_and_predict_report_progress_on_a_tiny_run(demo_faces, make_tiny_ckpt, tmp_path,
                                                            capsys) -> None:
    from dfdetect.evaluation.evaluate import evaluate
    from dfdetect.inference.predict import predict

    ckpt = str(make_tiny_ckpt())
    common = {"ckpt": ckpt, "num_workers": 0, "device": "cpu", "batch_size": 8}
    evaluate(EvaluateConfig(data=str(demo_faces), out=str(tmp_path / "r"), bootstrap=0,
                            mistakes=0, robustness="jpeg:50", **common), echo=lambda *_: None)
    inbox = tmp_path / "inbox"
    shutil.copytree(demo_faces.parent / "images" / "real", inbox)
    n = len(list(inbox.iterdir()))
    predict(PredictConfig(input=str(inbox), out=str(tmp_path / "s.csv"), **common),
            echo=lambda *_: None)
    err = capsys.readouterr().err.splitlines()
    test_rows = sum(1 for line in demo_faces.read_text().splitlines() if ",test," in line)
    assert test_rows > 0
    assert any(x.startswith(f"evaluate test: {test_rows}/{test_rows} files · ") for x in err)
    assert any(x.startswith("evaluate val (threshold): ") for x in err)
    assert any(x.startswith(f"robustness jpeg 50.0: {test_rows}/{test_rows} files") for x in err)
    assert any(x.startswith(f"predict: {n}/{n} files · ") and x.endswith(tuple("0123456789"))
               for x in err)

    predict(PredictConfig(input=str(inbox), out=str(tmp_path / "s2.csv"), progress=False,
                          **common), echo=lambda *_: None)
    evaluate(EvaluateConfig(data=str(demo_faces), out=str(tmp_path / "r2"), bootstrap=0,
                            mistakes=0, progress=False, **common), echo=lambda *_: None)
    assert capsys.readouterr().err == ""
