# zoo-bench developer entry points. `make run` and `make test` are the README's quick start.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test bench lint sshd browser horizon clean

setup: $(STAMP)

# The vendor plugins are distributions of their own (plugins/<vendor>/pyproject.toml), installed
# like any third-party plugin would be.
PLUGINS := $(sort $(dir $(wildcard plugins/*/pyproject.toml)))

# One virtual environment: the core with every extra plus the plugins, editable, at the exact
# versions of constraints.txt.
$(STAMP): pyproject.toml constraints.txt $(addsuffix pyproject.toml,$(PLUGINS))
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[all]' $(addprefix -e ./,$(PLUGINS))
	touch $(STAMP)

# The main job on the embedded default: local store, local executor, host CPU target.
run: setup
	$(BIN)/zoo-bench run --model mobilenet_v2_0.35_128 --target cpu

# The board-runner tests talk to a real OpenSSH server on loopback; install it if we can.
sshd:
	@test -x /usr/sbin/sshd || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server openssh-client >/dev/null; } ; } || \
	  echo "note: no /usr/sbin/sshd; the SSH board tests will be skipped"

# The HTML report test opens the page in a real headless browser: Debian's chromium package.
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } ; } || \
	  echo "note: no chromium; the browser test of the HTML report will be skipped"

# The RDK X5 end-to-end tests compile with the real Horizon toolchain (CPython 3.10 wheels only):
# installed (idempotent, about 1-4 min, 2.7 GB) when a CPython 3.10 exists, else those tests skip.
horizon: setup
	@if $(BIN)/python -c 'import sys; from zoo_bench.toolchains import find_python; \
	  sys.exit(find_python("3.10", None, "ZOO_BENCH_PYTHON310")[0] is None)'; then \
	  $(BIN)/zoo-bench toolchain install horizon; \
	else echo "note: no CPython 3.10; the Horizon toolchain tests will be skipped (docs/rdk_x5.md)"; fi

test: setup sshd browser horizon
	$(BIN)/pytest

bench: setup
	$(BIN)/pytest benchmarks --benchmark-enable --benchmark-only

lint: setup
	$(BIN)/ruff check framework plugins tests benchmarks

clean:
	rm -rf $(VENV) zoo-bench-results .pytest_cache
