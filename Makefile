# The two commands of the README: `make run` and `make test`. Both install what they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 7860

export HF_HUB_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: install run test eval bench lint

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,llm]'
	touch $(STAMP)

# Ingest the bundled corpus when the index is missing or stale (a no-op otherwise), then serve the chat.
run: install
	$(BIN)/exorag ingest || [ $$? -eq 1 ]
	$(BIN)/exorag serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest -q

eval: install
	$(BIN)/exorag eval --dataset evals/datasets/exosome_qa.jsonl --out evals/runs/latest

bench: install
	$(BIN)/exorag bench --scales 1000,10000,100000 --out evals/runs/bench
