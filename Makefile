# camfleet — the two commands a newcomer runs: `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.camfleet-installed
TOWN ?= inventory/ngoc-lac
# The town's vault identity (label@password file) for every ansible command; ansible.cfg names no town. A real
# town's password file lives outside the repository (`camfleet town new` prints where): pass both, e.g.
#   make demo TOWN=inventory/minh-son TOWN_VAULT_IDENTITY=minh-son@$$HOME/.config/camfleet/minh-son.vault-password
TOWN_VAULT_IDENTITY ?= demo@$(TOWN)/vault-password.DEMO-ONLY
TOWN_VAULT_PASSWORD_FILE = $(abspath $(lastword $(subst @, ,$(TOWN_VAULT_IDENTITY))))
# Debian packages: ffmpeg/ffprobe (simulated video and stream checks), Prometheus + promtool,
# Alertmanager + amtool (the station's pager), Chromium (sign PDFs, the map page's browser test),
# VictoriaMetrics (the district's central store in the province tests).
APT_PACKAGES := ffmpeg prometheus prometheus-alertmanager chromium victoria-metrics
# pytest workers: a module's tests (and its simulated town) stay in one worker (--dist loadfile).
TEST_WORKERS ?= 2

.PHONY: help setup apt demo demo-down test lint sanity unit golden dashboards schema bench clean

help:
	@echo "make demo   install what is needed, then run the main job on the simulated town"
	@echo "make test   lint + every test layer (unit, simulator, third-party, end-to-end)"
	@echo "make sanity ansible-test sanity on the Ansible collection (part of make test)"
	@echo "make setup  only build .venv and install Debian packages (idempotent)"
	@echo "make golden regenerate the pinned ansible-inventory output after a deliberate change"
	@echo "make dashboards  regenerate the Grafana dashboards (templates/grafana/dashboards/)"
	@echo "make bench  run the benchmarks (ratios measured side by side)"
	@echo "make demo-down  stop the simulated town the demo left running"

setup: apt $(STAMP)

# The venv is rebuilt only when the project's dependencies change.
$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -c requirements.lock -e '.[test]'
	@touch $@

apt:
	@scripts/apt-install $(APT_PACKAGES)

SIM_STATE ?= .state/sim
# The demo provisions cameras, which writes passwords into the town's vault and may mark cameras
# commissioned: it works on a copy of the town under .state/, never on the repository's inventory.
DEMO_TOWN := .state/demo/$(notdir $(TOWN))
DEMO_ENV := CAMFLEET_OVERLAY=$(SIM_STATE)/overlay.yml
DEMO_PLAYBOOK := ANSIBLE_VAULT_IDENTITY_LIST=$(TOWN_VAULT_IDENTITY) $(BIN)/ansible-playbook -i $(DEMO_TOWN)/town.camfleet.yml

demo: setup
	$(BIN)/camfleet validate $(TOWN)
	$(BIN)/camfleet report budget $(TOWN)
	$(BIN)/camfleet report retention $(TOWN)
	@test -d $(DEMO_TOWN) || { mkdir -p $(dir $(DEMO_TOWN)) && cp -r $(TOWN) $(DEMO_TOWN); }
	@$(BIN)/camfleet sim status --state $(SIM_STATE) >/dev/null 2>&1 || \
		$(BIN)/camfleet sim up $(DEMO_TOWN) --state $(SIM_STATE) --detach
	$(DEMO_ENV) $(DEMO_PLAYBOOK) playbooks/links.yml
	$(DEMO_ENV) $(DEMO_PLAYBOOK) playbooks/provision.yml -l status_installed \
		-e provision_report_dir=$(CURDIR)/.state/demo/commissioning
	$(DEMO_ENV) $(DEMO_PLAYBOOK) playbooks/configure.yml --check
	$(DEMO_PLAYBOOK) playbooks/monitoring.yml \
		-e monitoring_service_manager=process -e monitoring_process_dir=$(CURDIR)/.state/monitoring \
		-e monitoring_etc_dir=$(CURDIR)/.state/monitoring/etc -e monitoring_camfleet_dir=$(CURDIR) \
		-e monitoring_vault_password_file=$(TOWN_VAULT_PASSWORD_FILE) \
		-e monitoring_sim_overlay=$(CURDIR)/$(SIM_STATE)/overlay.yml
	$(BIN)/camfleet sim status --state $(SIM_STATE) | head -3
	-$(DEMO_ENV) $(BIN)/camfleet status $(DEMO_TOWN)
	$(DEMO_ENV) $(BIN)/python scripts/demo-footage $(DEMO_TOWN) .state/demo/footage
	@echo "The simulated town keeps running: CAMFLEET_OVERLAY=$(SIM_STATE)/overlay.yml with"
	@echo "-i $(DEMO_TOWN)/town.camfleet.yml points Ansible at it; the exporter, Prometheus and Alertmanager run"
	@echo "on 127.0.0.1:9830, :9090 and :9093 (pids and logs in .state/monitoring). The evidence package is in"
	@echo ".state/demo/footage (bien-ban-ban-giao.html is its handover record). 'make demo-down' stops them all."

demo-down: setup
	-$(DEMO_PLAYBOOK) playbooks/monitoring.yml -e monitoring_service_manager=process \
		-e monitoring_state=stopped -e monitoring_process_dir=$(CURDIR)/.state/monitoring
	-$(BIN)/camfleet sim down --state $(SIM_STATE)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/yamllint -s .
	$(BIN)/ansible-lint

# ansible-test sanity on the collection (validate-modules, import, pylint, pep8, yamllint, ansible-doc, ...),
# run in the collection's folder without Docker. Each test gets a venv of ansible-test's pinned
# requirements, kept under .venv/ansible-test (ansible-test puts them in ~/.ansible/test, hence HOME) and
# built from PyPI once, before the first run; ansible-test's own pip bootstrap download
# (ci-files.testing.ansible.com) is replaced by the collection's tests/sanity/get_pip.py.
COLLECTION := collections/ansible_collections/camfleet/fleet
SANITY_HOME := $(CURDIR)/$(VENV)/ansible-test
SANITY_STAMP := $(SANITY_HOME)/.primed
# The pip that ansible-core 2.19's ansible-test bootstraps; should it change, its error names the file it wants.
ANSIBLE_TEST_PIP := 24.2
ANSIBLE_TEST = cd $(COLLECTION) && HOME=$(SANITY_HOME) $(CURDIR)/$(BIN)/ansible-test sanity --local --color no \
	--python $$($(CURDIR)/$(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')

$(SANITY_STAMP): $(STAMP) $(COLLECTION)/tests/sanity/get_pip.py
	@mkdir -p $(SANITY_HOME)/.ansible/test/cache
	cp $(COLLECTION)/tests/sanity/get_pip.py $(SANITY_HOME)/.ansible/test/cache/get_pip_$(subst .,_,$(ANSIBLE_TEST_PIP)).py
	$(ANSIBLE_TEST) --prime-venvs
	@touch $@

sanity: setup $(SANITY_STAMP)
	$(ANSIBLE_TEST)

unit: setup
	$(BIN)/pytest -q tests/unit

test: lint sanity
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile

golden: setup
	$(BIN)/python tests/golden/regenerate.py

dashboards: setup
	$(BIN)/python -m camfleet.config.grafana

schema: setup
	$(BIN)/camfleet schema -o schema/inventory.schema.json

bench: setup
	$(BIN)/python bench/inventory.py
	$(BIN)/python bench/sim.py
	$(BIN)/python bench/stream_probe.py
	$(BIN)/python bench/playbooks.py
	$(BIN)/python bench/exporter.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
