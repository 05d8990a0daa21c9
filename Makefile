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

.PHONY: demo test install bench clean

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

test: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python bench/train_overhead.py
	$(BIN)/python bench/data_pipeline.py
	$(BIN)/python bench/prepare.py
	$(BIN)/python bench/predict.py

clean:
	rm -rf $(VENV) runs
