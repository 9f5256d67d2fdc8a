# Two commands for a new user: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_PASSWORD ?= kepu-demo-2025
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test venv sysdeps testdeps lint migrate bench clean

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "需要 Python 3.11 或更高版本 (Python 3.11+ required)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

venv: $(BIN)/.installed

sysdeps:
	@bash .ci/system-packages.sh

# What the tests need besides the run-time packages: CJK fonts for the PDF tests, poppler-utils,
# Chromium for the browser tests. Installed as root; otherwise the exact apt-get line is printed.
testdeps:
	@bash .ci/system-packages.sh --test-tools

migrate: venv
	$(BIN)/python manage.py migrate --noinput

run: venv sysdeps migrate
	$(BIN)/python manage.py load_plan
	$(BIN)/python manage.py seed_demo --password '$(DEMO_PASSWORD)'
	@echo ""
	@echo "门户地址 (portal): http://$(HOST):$(PORT)/   API: http://$(HOST):$(PORT)/api/v1/   API 文档: http://$(HOST):$(PORT)/api/docs/"
	@echo "演示账号 (demo log-ins): admin / office / viewer / jyt-reporter / jyt-approver …  密码 (password): $(DEMO_PASSWORD)"
	@echo "按 Ctrl-C 停止 (Ctrl-C stops it)."
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: venv testdeps lint
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest

# About 10-15 minutes on 2 cores; writes docs/benchmarks.md. Settings come from the environment,
# e.g. `make bench BENCH_SCALES=1 BENCH_SECONDS=10`: see the docstring of benchmarks/run.py.
BENCH_ENV := $(foreach v,$(filter BENCH_%,$(.VARIABLES)),$(v)='$($(v))')
bench: venv
	$(BENCH_ENV) $(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) var

.PHONY: backup restore

# Backup and restore (docs/admin-guide.md). No `venv` prerequisite on purpose: they run from cron
# on offline servers, where a reinstall must never be attempted.
#   make backup [OUTPUT=/srv/kepu-backups]      → OUTPUT/<YYYYmmdd-HHMMSS>/ (default var/backups/)
backup:
	$(BIN)/python manage.py backup $(if $(OUTPUT),--output '$(OUTPUT)')

#   make restore BACKUP=var/backups/20261128-023000 [YES=1]   (stop web, worker and beat first)
restore:
	@test -n '$(BACKUP)' || { echo '用法 usage: make restore BACKUP=var/backups/<YYYYmmdd-HHMMSS> [YES=1]'; exit 2; }
	$(BIN)/python manage.py restore '$(BACKUP)' $(if $(YES),--yes)
