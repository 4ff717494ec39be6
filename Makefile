# Penny — the two commands a newcomer needs: `make test` and `make run`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.penny-installed
TORCH  := torch==2.13.0
# CPU-only torch first: a plain `pip install torch` elsewhere pulls a multi-GB CUDA build.
TORCH_CPU_INDEX := https://download.pytorch.org/whl/cpu

.PHONY: install test lint typecheck run bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --timeout 15 --retries 1 --index-url $(TORCH_CPU_INDEX) $(TORCH) \
		|| $(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile

test: lint
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(BIN)/pytest -q -ra

run: $(STAMP)
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(BIN)/penny run

bench: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/idle.py
	HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/cache_quality.py
	HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/cache_latency.py
	HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/router_quality.py
	HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/router_ceiling.py
	HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/routing_speed.py
	HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/replay_cost.py
	HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/streaming_load.py --conversations 20 --channels 10
	HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/streaming_load.py --conversations 200 --channels 100 --no-slack-limits
	$(BIN)/python benchmarks/ledger_soak.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
