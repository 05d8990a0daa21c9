"""The web page in a real browser: headless Chromium (Debian's ``chromium`` +
``chromium-driver``) driven by selenium against ``dfdetect serve`` started as a command on a
free loopback port. Uploads an image, a short video and a broken file; checks the verdict, the
timeline's points and thumbnails, and the error message; saves a screenshot to
``tests/artifacts/serve/`` (ignored by git).

Installs nothing: `make test` sets the browser up where it can (root + apt-get); elsewhere the
test is skipped with the reason.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="dfdetect serve needs the serve extra: pip install "
                    "'dfdetect[serve]'")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed "
                                "(pip install -e '.[dev]')")

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "artifacts" / "serve"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def browser_paths() -> tuple[str, str]:
    driver = shutil.which("chromedriver")
    browser = next((p for p in map(shutil.which, BROWSERS) if p), None)
    if not driver or not browser:
        pytest.skip("no headless Chromium: install Debian's chromium and chromium-driver "
                    "(`make test` does as root), found chromedriver=%s browser=%s"
                    % (driver, browser))
    return browser, driver


@pytest.fixture
def server(make_tiny_ckpt, tmp_path):
    """`dfdetect serve` on 127.0.0.1 with port=0; yields its address (read from its output)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO / "src"), os.environ.get("PYTHONPATH", "")]), "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "dfdetect.cli.main", "serve",
           f"ckpt={make_tiny_ckpt(image_size=32)}", "port=0", "device=cpu", "frames=4",
           f"tmp_dir={tmp_path / 'uploads'}"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)
    lines = []
    try:
        for line in proc.stdout:  # ends when the process exits
            lines.append(line)
            found = re.search(r" at (http://127\.0\.0\.1:\d+)/ ", line)
            if found:
                yield found[1]
                break
        else:
            pytest.fail("dfdetect serve exited before printing its address:\n" + "".join(lines))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stdout.close()
    assert not any((tmp_path / "uploads").iterdir())


@pytest.fixture
def browser():
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = browser_paths()
    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=900,1100"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=opts)
    yield driver
    driver.quit()


def test_page_scores_an_image_and_a_video_and_explains_a_broken_file(server, browser, media):
    import httpx
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with open(media["clip.mp4"], "rb") as f:
        api = httpx.post(f"{server}/v1/score", files={"file": ("clip.mp4", f)}, timeout=60).json()
    wait = WebDriverWait(browser, 60)
    text = lambda css: browser.find_element(By.CSS_SELECTOR, css).text  # noqa: E731
    browser.get(server + "/")
    wait.until(lambda d: "timm:resnet18" in text("#model"))
    upload = browser.find_element(By.ID, "file")

    upload.send_keys(str(media["face.jpg"]))
    wait.until(lambda d: "score" in text("#verdict"))
    assert re.match(r"Likely (REAL|FAKE) · score 0\.\d{3}$", text("#verdict"))
    assert not browser.find_element(By.ID, "chart").is_displayed()  # one score, no timeline

    upload.send_keys(str(media["clip.mp4"]))
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#timeline circle.point"))
    points = browser.find_elements(By.CSS_SELECTOR, "#timeline circle.point")
    assert [float(p.get_attribute("data-score")) for p in points] == pytest.approx(
        [f["score"] for f in api["frames"]], abs=1e-4)
    assert browser.find_elements(By.CSS_SELECTOR, "#timeline line.threshold")
    assert text("#verdict").endswith(f"score {api['score']:.3f}")
    thumbs = browser.find_elements(By.CSS_SELECTOR, "#thumbs img")
    assert len(thumbs) == len(api["thumbnails"]) > 0
    assert all(browser.execute_script("return arguments[0].naturalWidth", t) == 32 for t in thumbs)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "video_timeline.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 0
    print(f"screenshot: {shot}")

    upload.send_keys(str(media["broken.jpg"]))
    wait.until(lambda d: "Cannot score" in text("#message"))
    assert "broken.jpg: cannot decode image" in text("#message")
    assert browser.find_element(By.ID, "message").get_attribute("class") == "error"

    browser.get(server + "/docs")  # Swagger UI renders offline: its files come from the server
    wait.until(lambda d: "/v1/score" in d.find_element(By.TAG_NAME, "body").text)
