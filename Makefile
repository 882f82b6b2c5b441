# The two set-up commands: `make demo` and `make test`. Everything else here serves them.
SHELL := /bin/bash
PYTHON ?= $(shell command -v $(HOME)/.pyenv/versions/3.12.1/bin/python3.12 || command -v python3.12)
VENV := .venv
TOOLS := .venv-tools
BIN := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# uv installs the locked sets in seconds where pip takes minutes (CI installs both on every run).
UV_VERSION := 0.13.9
# Bytecode compiled at install: where bytecode writing is off (PYTHONDONTWRITEBYTECODE) every run would
# otherwise recompile every module it imports (seconds for numba, pandas, sklearn).
UV = $(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python

.PHONY: demo test venv tools browser lambda-image invoke lint typecheck pytest bench clean

venv: $(VENV)/.installed $(VENV)/.kernel-aot
$(VENV)/.installed: requirements/dev.lock pyproject.toml
	@test -n "$(PYTHON)" || { echo "python3.12 not found: install it (pyenv install 3.12.1)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q uv==$(UV_VERSION)
	$(UV) -r requirements/dev.lock
	$(UV) --no-deps -e .
	@# The dev tools, deployment code and functions (devkit, infra, functions) and the functions' AWS edge
	@# (layers/regime/regime_aws) stay out of the wheel: this environment reaches them through the repository.
	printf '%s\n' "$(CURDIR)" "$(CURDIR)/layers/regime" > $$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/regime_trader_repository.pth
	$(BIN)/python -m compileall -q layers/regime trading_engine trader_host  # the editable sources too
	touch $@

# The backtest's loop compiled ahead of time (a backtest then starts without numba: seconds saved); again after
# any edit to the loop's sources, which the compiled module is keyed by.
$(VENV)/.kernel-aot: $(VENV)/.installed $(wildcard trading_engine/backtest/fast/kernel*.py)
	$(BIN)/python -m trading_engine.backtest.fast.kernel_aot
	touch $@

# sam, cfn-lint and checkov pin versions that clash with the project's: they get their own environment.
tools: $(TOOLS)/.installed
$(TOOLS)/.installed: requirements/tools.lock $(VENV)/.installed
	$(PYTHON) -m venv $(TOOLS)
	$(BIN)/uv pip install -q --python $(TOOLS)/bin/python -r requirements/tools.lock
	touch $@

# The report's page is tested in a real headless Chromium: Debian's, installed here when it is missing.
browser:
	@command -v chromium >/dev/null || { \
		echo "installing Debian's chromium (headless browser tests)"; \
		$(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq chromium chromium-driver >/dev/null; }

# `sam local invoke` runs on an offline stand-in for the Lambda Python 3.12 image: Docker and debootstrap
# installed from Debian when missing, dockerd started, the image built once per machine (cached by recipe).
lambda-image: venv
	$(BIN)/python -m infra.lambda_image

# `sam local invoke` of one function, in Docker, on the running local cloud (`python -m devkit.local_cloud up`):
# built for this machine's architecture, the stack's names and endpoint passed in, exit status non-zero when the
# function fails. `make invoke FN=IngestBarsFunction EVENT=events/ingest_bars.json`, then FN=RegimeFunction
# EVENT=events/regime.json.
STACK ?= build/local-cloud/state.json
invoke: venv tools
	@test -n "$(FN)" && test -n "$(EVENT)" || { echo "usage: make invoke FN=RegimeFunction EVENT=events/regime.json [STACK=$(STACK)]"; exit 2; }
	$(BIN)/python -m devkit.local_cloud sam-invoke $(FN) -e $(EVENT) --stack $(STACK)

# The demo stands template.yaml up locally with SAM's translator, which lives in the tools environment.
demo: venv tools
	$(BIN)/regime-trader demo

# The import contracts (pyproject.toml, [tool.importlinter]): the arrows allowed between the packages.
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: venv
	$(BIN)/mypy $(wildcard layers/regime/regime layers/regime/regime_aws trading_engine trader_host devkit functions infra tests bench)

# Two workers (this machine's cores); a file's tests stay on one worker, as its module fixtures expect.
pytest: venv tools browser lambda-image
	$(BIN)/pytest -n auto --dist loadfile

test: lint typecheck pytest

bench: venv
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(TOOLS) .aws-sam build .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
