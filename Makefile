# The two commands of the README: `make run` and `make test`. Both install what they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 7860
# Debian packages the browser tests need (the chat UI in headless Chromium).
TEST_DEBS := chromium fonts-dejavu-core

# llama-cpp-python is built from source: on both cores, and without its multimodal library (mtmd),
# which exorag never loads.
LLAMA_BUILD := CMAKE_ARGS="-DLLAVA_BUILD=OFF" CMAKE_BUILD_PARALLEL_LEVEL=2

export HF_HUB_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: install install-test llm system-test-deps run test eval bench disk-space

# What the chat needs, and no more: `make run` serves within minutes on a bare machine.
install: $(VENV)/.installed-run
# Everything the tests need, the local LLM (llama-cpp-python, built from source once) included.
install-test: $(VENV)/.installed-test
# The local LLM alone, for `exorag ask --generator llm` with a GGUF model (see "Using an LLM").
llm: $(VENV)/.installed-llm

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	@$(MAKE) --no-print-directory disk-space NEED_MB=3000
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-llm: pyproject.toml | $(BIN)/python
	@$(MAKE) --no-print-directory disk-space NEED_MB=1000
	$(LLAMA_BUILD) $(BIN)/pip install --quiet -e '.[llm]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	@$(MAKE) --no-print-directory disk-space NEED_MB=3500
	$(LLAMA_BUILD) $(BIN)/pip install --quiet -e '.[test,llm]'
	touch $@ $(VENV)/.installed-run $(VENV)/.installed-llm

# An install needs room for .venv (2.4 GB for the chat, 2.7 GB with what the tests need) and pip's temporary builds:
# stop before pip with what is free and where, rather than with pip's "No space left on device".
NEED_MB ?= 3500
disk-space:
	@free=$$(df -Pm . | awk 'NR==2 {print $$4}'); \
	if [ "$$free" -lt $(NEED_MB) ]; then \
	  echo "Not enough disk space to install exorag: $$free MB free on $$(df -P . | awk 'NR==2 {print $$6}') (for $(CURDIR)/.venv), about $(NEED_MB) MB needed."; \
	  echo "Free some space there, or clone exorag onto a larger disk, then run make again."; \
	  exit 1; \
	fi

# Chromium and its fonts from Debian: installed when missing and we are root, else the one command to run.
system-test-deps:
	@missing=$$(for p in $(TEST_DEBS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || printf '%s ' $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian packages for the browser tests: $$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "The browser tests need Debian packages that are missing: $$missing"; \
	    echo "Install them, then run make test again:  sudo apt-get install -y $$missing"; \
	    exit 1; \
	  fi; \
	fi

# Ingest the bundled corpus when the index is missing or stale (a no-op otherwise), then serve the chat.
run: install
	$(BIN)/exorag ingest || [ $$? -eq 1 ]
	$(BIN)/exorag serve --host $(HOST) --port $(PORT)

# Two workers, a test file each: most tests wait on a server, a browser or a subprocess part of the time.
test: system-test-deps install-test
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

eval: install
	$(BIN)/exorag eval --dataset evals/datasets/exosome_qa.jsonl --out evals/runs/latest

bench: install
	$(BIN)/exorag bench --scales 1000,10000,100000 --out evals/runs/bench
