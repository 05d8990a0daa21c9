"""The HTTP API in-process (Starlette's TestClient): every endpoint, the same scores as
``predict``, and every error path (413, 422, 503 + Retry-After), with the upload folder checked
empty after each request."""
from __future__ import annotations

import base64
import io
import json
import re
import shutil
import threading
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="dfdetect serve needs the serve extra: pip install "
                    "'dfdetect[serve]'")
from fastapi.testclient import TestClient  # noqa: E402

from dfdetect.config.schema import PredictConfig  # noqa: E402
from dfdetect.inference.predict import predict  # noqa: E402
from dfdetect.serve.app import STATIC, create_app  # noqa: E402
from dfdetect.serve.engine import ScoreError  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def post(client, path: Path, name: str | None = None, **fields):
    """POST ``path`` to /v1/score as the form field ``file`` (plus other form ``fields``)."""
    with open(path, "rb") as f:
        return client.post("/v1/score", files={"file": (name or path.name, f)}, data=fields)


def uploads_left(cfg) -> list[str]:
    return sorted(p.name for p in Path(cfg.tmp_dir).iterdir())


def predict_rows(ckpt: str, files: list[Path], folder: Path, **options) -> dict[str, dict]:
    """predict's rows (JSON lines: frames included) for ``files`` copied into ``folder``."""
    folder.mkdir()
    for f in files:
        shutil.copy(f, folder / f.name)
    out = folder.parent / f"{folder.name}.jsonl"
    predict(PredictConfig(ckpt=ckpt, input=str(folder), out=str(out), device="cpu",
                          progress=False, **options), echo=lambda *_: None)
    return {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}


def test_health_model_docs_and_page(serve_cfg):
    cfg = serve_cfg(threshold=0.3)
    with TestClient(create_app(cfg)) as client:
        assert client.get("/health").json() == {"status": "ok", "version": "0.1.0",
                                                "model": "timm:resnet18"}
        info = client.get("/v1/model").json()
        page, js = client.get("/"), client.get("/static/app.js")
        docs, spec = client.get("/docs"), client.get("/openapi.json").json()
        assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", docs.text)
        asset_status = [client.get(a).status_code for a in assets]
    assert info["model"]["name"] == "timm:resnet18" and info["modality"] == "image"
    assert info["input"]["image_size"] == 32 and info["threshold"] == 0.3
    assert info["threshold_source"] == "serve threshold="
    assert info["checkpoints"] == [{"file": Path(cfg.ckpt).name, "weight": 1.0}]  # no folder
    assert {".jpg", ".png", ".mp4"} <= set(info["extensions"]) and ".wav" not in info["extensions"]
    assert info["server"]["limits"]["max_upload_bytes"] == 50 * 2**20
    assert page.status_code == 200 and 'src="/static/app.js"' in page.text
    assert js.status_code == 200 and "/v1/score" in js.text
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert assets and all(a.startswith("/") for a in assets), assets  # served here, no CDN
    assert asset_status == [200] * len(assets)
    body = spec["paths"]["/v1/score"]["post"]["requestBody"]["content"]
    assert body["multipart/form-data"]["schema"]["properties"]["file"]["format"] == "binary"


def test_model_describes_the_training_data_without_server_folders(serve_cfg, tmp_path):
    import torch

    from dfdetect.checkpoint import make_checkpoint, save_checkpoint
    from dfdetect.models import build_model, preprocessing_of

    torch.manual_seed(0)
    net = build_model("timm:resnet18", pretrained="false", num_classes=2).eval()
    data = {"manifest": "/secret/a/faces.csv,/secret/b/flux.csv", "train_split": "train",
            "val_split": "val"}
    ckpt = save_checkpoint(make_checkpoint(
        net, model_name="timm:resnet18", model_kwargs={"num_classes": 2},
        preprocessing={"modality": "image", "image_size": 32, **preprocessing_of(net)},
        config={"data": data}, threshold=0.42, metrics={"val/auc": 0.91, "val/loss": float("nan")},
        epoch=3), tmp_path / "trained.ckpt")
    with TestClient(create_app(serve_cfg(ckpt=str(ckpt)))) as client:
        info = client.get("/v1/model").json()
    assert info["training_data"] == {"manifests": ["faces.csv", "flux.csv"],
                                     "train_split": "train", "val_split": "val"}
    assert info["threshold"] == 0.42 and "checkpoint" in info["threshold_source"]
    assert info["metrics"] == {"val/auc": 0.91, "val/loss": None} and info["epoch"] == 3
    assert "/secret" not in json.dumps(info) and str(tmp_path) not in json.dumps(info)


def test_the_page_needs_nothing_from_outside():
    """No CDN: the only absolute URL in the page's files is the SVG namespace (not fetched)."""
    urls = {u for f in STATIC.iterdir() for u in re.findall(r"[a-z]+://[^\s\"')]+", f.read_text())}
    assert urls == {"http://www.w3.org/2000/svg"}
    assert {"index.html", "app.js", "style.css"} <= {f.name for f in STATIC.iterdir()}


def test_image_and_video_get_predicts_scores(serve_cfg, media, tmp_path):
    cfg = serve_cfg()
    with TestClient(create_app(cfg)) as client:
        image = post(client, media["face.jpg"]).json()
        video = post(client, media["clip.mp4"]).json()
    rows = predict_rows(cfg.ckpt, [media["face.jpg"], media["clip.mp4"]], tmp_path / "in",
                        frames=4)
    assert image["modality"] == "image" and image["status"] == "ok" and "frames" not in image
    assert image["score"] == pytest.approx(rows["face.jpg"]["score"], abs=1e-6)
    assert image["label"] == rows["face.jpg"]["label"]
    assert video["modality"] == "video" and video["status"] == "ok"
    assert video["score"] == pytest.approx(rows["clip.mp4"]["score"], abs=1e-6)
    frames, expected = video["frames"], rows["clip.mp4"]["frames"]
    assert [f["frame"] for f in frames] == [f["frame"] for f in expected] and len(frames) >= 2
    assert [f["score"] for f in frames] == pytest.approx([f["score"] for f in expected], abs=1e-6)
    # time = frame index / 25 fps; the face box lies inside the 160 x 128 frame
    assert [f["time"] for f in frames] == pytest.approx([f["frame"] / 25 for f in frames], abs=1e-3)
    assert all(0 <= b[0] < b[2] <= 160 and 0 <= b[1] < b[3] <= 128
               for b in (f["box"] for f in frames))
    assert [f["box"] for f in frames] == [f["box"] for f in expected]
    thumbs = video["thumbnails"]
    assert [t["frame"] for t in thumbs] == [f["frame"] for f in
                                            sorted(frames, key=lambda f: -f["score"])][:4]
    from PIL import Image

    crop = Image.open(io.BytesIO(base64.b64decode(thumbs[0]["image"].split(",", 1)[1])))
    assert crop.format == "JPEG" and crop.size == (32, 32)  # the model's input crop
    assert uploads_left(cfg) == []


def test_audio_gets_predicts_windows(serve_cfg, audio_ckpt, media, tmp_path):
    cfg = serve_cfg(ckpt=str(audio_ckpt))
    with TestClient(create_app(cfg)) as client:
        got = post(client, media["speech.wav"]).json()
        wrong = post(client, media["face.jpg"])
    predict_rows(cfg.ckpt, [media["speech.wav"]], tmp_path / "in")
    rows = [json.loads(x) for x in (tmp_path / "in.windows.jsonl").read_text().splitlines()]
    assert got["modality"] == "audio" and got["status"] == "ok"
    # 1.5 s in 0.5 s windows every 0.25 s: starts 0, 0.25, 0.5, 0.75, 1.0
    assert [(w["start"], w["end"]) for w in got["windows"]] == [(r["start"], r["end"])
                                                                for r in rows]
    assert [w["start"] for w in got["windows"]] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert [w["score"] for w in got["windows"]] == pytest.approx([r["score"] for r in rows],
                                                                 abs=1e-5)
    assert got["score"] == pytest.approx(sum(r["score"] for r in rows) / len(rows), abs=1e-5)
    assert wrong.status_code == 422 and ".wav" in wrong.json()["error"]


def test_ensemble_gets_predicts_score(serve_cfg, make_tiny_ckpt, media, tmp_path):
    a, b = make_tiny_ckpt(image_size=32, seed=0), make_tiny_ckpt(image_size=32, seed=1)
    spec = f"{a}:0.7,{b}:0.3"
    cfg = serve_cfg(ckpt=spec)
    with TestClient(create_app(cfg)) as client:
        info = client.get("/v1/model").json()
        got = post(client, media["face.jpg"]).json()
    rows = predict_rows(spec, [media["face.jpg"]], tmp_path / "in")
    assert [c["weight"] for c in info["checkpoints"]] == pytest.approx([0.7, 0.3])
    assert got["score"] == pytest.approx(rows["face.jpg"]["score"], abs=1e-6)


def test_onnx_export_gets_predicts_score(serve_cfg, make_tiny_ckpt, media, tmp_path):
    pytest.importorskip("onnxruntime")
    from dfdetect.config.schema import ExportConfig
    from dfdetect.inference.export import export

    onnx = tmp_path / "tiny.onnx"
    export(ExportConfig(ckpt=str(make_tiny_ckpt(image_size=32)), out=str(onnx)),
           echo=lambda *_: None)
    cfg = serve_cfg(ckpt=str(onnx), backend="onnx")
    with TestClient(create_app(cfg)) as client:
        assert client.get("/v1/model").json()["backend"] == "onnx"
        got = post(client, media["face.jpg"]).json()
    rows = predict_rows(str(onnx), [media["face.jpg"]], tmp_path / "in", backend="onnx")
    assert got["score"] == pytest.approx(rows["face.jpg"]["score"], abs=1e-6)


def test_a_request_cannot_choose_the_checkpoint(serve_cfg, make_tiny_ckpt, media, monkeypatch):
    other = make_tiny_ckpt(image_size=32, seed=7)
    cfg = serve_cfg()
    app = create_app(cfg)

    def refuse(*args, **kwargs):
        raise AssertionError(f"a checkpoint was loaded during a request: {args}")

    with TestClient(app) as client:
        plain = post(client, media["face.jpg"]).json()
        monkeypatch.setattr("dfdetect.inference.predictor.load_checkpoint", refuse)
        monkeypatch.setattr("dfdetect.checkpoint.load_checkpoint", refuse)
        monkeypatch.setattr("torch.load", refuse)
        asked = post(client, media["face.jpg"], ckpt=str(other), backend="onnx").json()
    assert asked["status"] == "ok" and asked["score"] == plain["score"]


@pytest.mark.parametrize("name,source,expected", [
    ("notes.txt", "notes.txt", r"unsupported file type \.txt; this model scores .*\.jpg"),
    ("blob", "notes.txt", r"unsupported file type \(none\)"),
    ("broken.jpg", "broken.jpg", r"^broken\.jpg: cannot decode image"),
    ("broken.mp4", "broken.mp4", r"^broken\.mp4: .*(cannot open|invalid|no video)"),
    ("../../etc/x.png", "broken.jpg", r"^x\.png: cannot decode image"),
])
def test_unscorable_files_get_422_with_the_reason(serve_cfg, media, name, source, expected):
    cfg = serve_cfg()
    with TestClient(create_app(cfg), raise_server_exceptions=False) as client:
        r = post(client, media[source], name=name)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["status"] == "error" and re.search(expected, body["error"]), body["error"]
    assert cfg.tmp_dir not in body["error"]  # no server path in a reply
    assert uploads_left(cfg) == []


def test_bad_requests_get_422(serve_cfg):
    cfg = serve_cfg()
    with TestClient(create_app(cfg)) as client:
        no_field = client.post("/v1/score", files={"photo": ("a.jpg", b"x")})
        not_form = client.post("/v1/score", content=b"raw bytes")
    assert no_field.status_code == 422 and "no 'file' field" in no_field.json()["error"]
    assert not_form.status_code == 422 and "multipart/form-data" in not_form.json()["error"]
    assert uploads_left(cfg) == []


def multipart_chunks(payload: bytes, boundary: str = "dfdetectBoundary", chunk: int = 700):
    """A multipart body sent chunked (no Content-Length): the limit must hold while streaming."""
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"big.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").encode() + payload + \
        f"\r\n--{boundary}--\r\n".encode()
    return (body[i:i + chunk] for i in range(0, len(body), chunk))


def test_too_large_uploads_get_413_naming_the_limit(serve_cfg, media):
    cfg = serve_cfg(max_upload_mb=0.002)  # 2 KiB; face.jpg is larger
    assert media["face.jpg"].stat().st_size > 0.002 * 2**20
    with TestClient(create_app(cfg)) as client:
        declared = client.post("/v1/score", files={"file": ("big.jpg", b"\xff" * 2**18)})
        counted = post(client, media["face.jpg"])  # under the header check's framing slack
        streamed = client.post("/v1/score", content=multipart_chunks(b"\xff" * 5000),
                               headers={"content-type":
                                        "multipart/form-data; boundary=dfdetectBoundary"})
    for r in (declared, counted, streamed):
        assert r.status_code == 413, r.text
        assert "max_upload_mb=0.002" in r.json()["error"] and r.json()["limit_bytes"] == 2097
    assert uploads_left(cfg) == []


def test_too_long_media_get_422_naming_the_limit(serve_cfg, audio_ckpt, media):
    video_cfg = serve_cfg(max_video_seconds=0.2)  # the clip lasts 8 / 25 = 0.32 s
    with TestClient(create_app(video_cfg)) as client:
        video = post(client, media["clip.mp4"]).json()
    audio_cfg = serve_cfg(ckpt=str(audio_ckpt), max_audio_seconds=1.0)  # the clip: 1.5 s
    with TestClient(create_app(audio_cfg)) as client:
        audio = post(client, media["speech.wav"]).json()
    assert video["error"] == ("clip.mp4: 0.3 s is longer than the server's limit of 0.2 s "
                              "(max_video_seconds=0.2)") and video["limit_seconds"] == 0.2
    assert "1.5 s is longer" in audio["error"] and "max_audio_seconds=1" in audio["error"]
    assert uploads_left(video_cfg) == [] and uploads_left(audio_cfg) == []


class GatedEngine:
    """A slowed predictor fake: each scoring waits for ``gate``; records where its file was."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.gate, self.started = threading.Event(), threading.Event()
        self.fail = fail
        self.seen: list[tuple[Path, bytes]] = []
        self.running = self.most_running = 0
        self.lock = threading.Lock()

    def model_info(self) -> dict:
        return {"model": {"name": "fake"}}

    def score_file(self, path: str, name: str) -> dict:
        with self.lock:
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        self.seen.append((Path(path), Path(path).read_bytes()))
        self.started.set()
        try:
            assert self.gate.wait(30), "the test never opened the gate"
            if self.fail is not None:
                raise self.fail
            return {"name": name, "modality": "image", "score": 0.9, "label": "fake"}
        finally:
            with self.lock:
                self.running -= 1


def test_uploads_live_in_a_temporary_folder_removed_after_success_or_failure(serve_cfg):
    for fail, status in ((None, 200), (ScoreError(422, "x: cannot decode"), 422),
                         (RuntimeError("a bug"), 500)):
        cfg = serve_cfg()
        engine = GatedEngine(fail)
        engine.gate.set()
        with TestClient(create_app(cfg, engine=engine), raise_server_exceptions=False) as c:
            r = c.post("/v1/score", files={"file": ("clip.MP4", b"0123456789")})
        assert r.status_code == status and r.headers["content-type"] == "application/json"
        (path, data), = engine.seen
        assert data == b"0123456789" and path.name == "upload.mp4"
        assert path.parent.parent == Path(cfg.tmp_dir)  # its own folder under tmp_dir
        assert not path.parent.exists() and uploads_left(cfg) == []


def test_a_busy_server_answers_503_with_retry_after(serve_cfg):
    cfg = serve_cfg(max_concurrent=1, queue_timeout=0.2)
    engine = GatedEngine()
    with TestClient(create_app(cfg, engine=engine)) as client:
        first: list = []
        t = threading.Thread(target=lambda: first.append(
            client.post("/v1/score", files={"file": ("a.jpg", b"a")})))
        t.start()
        assert engine.started.wait(30)
        busy = client.post("/v1/score", files={"file": ("b.jpg", b"b")})
        engine.gate.set()
        t.join(30)
    assert busy.status_code == 503 and int(busy.headers["Retry-After"]) >= 1
    assert "busy: 1 files are being scored" in busy.json()["error"]
    assert first[0].status_code == 200 and len(engine.seen) == 1
    assert uploads_left(cfg) == []


def test_requests_beyond_the_limit_queue_and_all_succeed(serve_cfg):
    cfg = serve_cfg(max_concurrent=1, queue_timeout=30)
    engine = GatedEngine()
    app = create_app(cfg, engine=engine)
    with TestClient(app) as client:
        results: list = []
        threads = [threading.Thread(target=lambda n=n: results.append(
            client.post("/v1/score", files={"file": (f"{n}.jpg", b"x")}))) for n in range(3)]
        for t in threads:
            t.start()
        assert engine.started.wait(30)
        for _ in range(3000):  # until the two others wait for the slot
            if app.state.slots.waiting == 2:
                break
            threading.Event().wait(0.01)
        assert app.state.slots.waiting == 2
        engine.gate.set()
        for t in threads:
            t.join(30)
    assert sorted(r.status_code for r in results) == [200, 200, 200]
    assert engine.most_running == 1 and len(engine.seen) == 3
    assert uploads_left(cfg) == []
