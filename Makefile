# The two commands: `make demo` and `make test`. Each creates .venv and installs everything first.
# PyTorch is installed on its own (pip takes the local wheels on this kind of machine), then the
# rest with requirements/constraints.txt so no resolver can replace torch.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
STAMP  := $(VENV)/.install-stamp
TORCH  := torch==2.14.1 torchvision==0.29.1
export HF_HUB_OFFLINE ?= 0
export NO_ALBUMENTATIONS_UPDATE := 1

.PHONY: demo test install browser bench clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements/constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or run make PYTHON=python3"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet $(TORCH)
	$(PIP) install --quiet -c requirements/constraints.txt -e '.[dev]'
	$(PIP) install --quiet --no-deps facenet-pytorch==2.6.0 mediapipe==0.10.14
	$(BIN)/python -c "import torch, torchvision, dfdetect; print('installed dfdetect', dfdetect.__version__, 'torch', torch.__version__)"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/dfdetect demo

test: $(STAMP) browser
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -p no:cacheprovider

# The web page test (tests/serve/test_browser.py) drives Debian's chromium through chromedriver.
# Installed here when missing and possible (root, apt-get); never fails the target: without a
# browser that one test is skipped and says why.
browser:
	@if command -v chromedriver >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing chromium + chromium-driver for the browser test (apt-get)"; \
	  { DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 \
	    || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive \
	         apt-get install -y -q chromium chromium-driver >/dev/null 2>&1; }; } \
	  || echo "note: could not install chromium + chromium-driver: the browser test will be skipped"; \
	else echo "note: no chromedriver (as root: apt-get install chromium chromium-driver): the browser test will be skipped"; fi

bench: $(STAMP)
	$(BIN)/python bench/train_overhead.py
	$(BIN)/python bench/data_pipeline.py
	$(BIN)/python bench/prepare.py
	$(BIN)/python bench/predict.py
	$(BIN)/python bench/serve.py
	$(BIN)/python bench/devices.py
	$(BIN)/python bench/cli_startup.py

clean:
	rm -rf $(VENV) runs
