# Relance — every developer and CI task. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv/bin
LOCAL := .local
CARGO_TEST_FLAGS ?=
# Property tests: CI replays this seed (a red CI is a change's doing); elsewhere each run draws a
# fresh one, printed when a property test fails (PROPTEST_RNG_SEED=… replays it).
PROPTEST_CI_SEED := 20261202
# `make explore`: cases per property test.
CASES ?= 100000
# `make fuzz`: inputs per fuzz target, and the run's seed (fresh unless given: FUZZ_SEED=… replays).
FUZZ_INPUTS ?= 10000000
ifndef FUZZ_SEED
FUZZ_SEED := $(shell od -An -N8 -tu8 /dev/urandom | tr -d ' ')
endif
# SAM CLI must not try to reach its telemetry endpoint (no internet on CI).
export SAM_CLI_TELEMETRY := 0

.PHONY: help demo test chaos explore fuzz tools up down status fmt lint lint-rust lint-infra build watch dispatch bench scale clean-local

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

demo: tools ## The CRM running locally on a simulated shop (starts and stops everything itself)
	@infra/local/demo.sh

test: tools ## Everything CI checks: fmt, clippy, template lint, unit and integration tests on the local stack, then the chaos test on a stack of its own
	cargo fmt --all -- --check
	$(MAKE) lint-rust lint-infra
	@$(MAKE) --no-print-directory up
	@status=0; $(if $(CI),PROPTEST_RNG_SEED=$(PROPTEST_CI_SEED)) cargo test --workspace $(CARGO_TEST_FLAGS) || status=$$?; \
	  $(MAKE) --no-print-directory down; exit $$status
	@$(MAKE) --no-print-directory chaos

# A stack of its own (moto keeps its state in memory: down and up empty it): its dispatcher
# drains every rule's queue and fires every due schedule, and other tests leave theirs behind.
# `--workspace` keeps `make test`'s feature set, so nothing is compiled again for it.
chaos: tools ## The chaos test alone: the demo's shop played clean and with 10 % of AWS calls faulted, same end state required (about 7 min; docs/reliability.md)
	@$(MAKE) --no-print-directory up
	@status=0; cargo test --workspace --test chaos_e2e -- --ignored --nocapture || status=$$?; \
	  $(MAKE) --no-print-directory down; exit $$status

explore: ## Every property test with CASES cases (default 100,000) from a fresh seed, optimised build (hours; not part of `make test`)
	PROPTEST_CASES=$(CASES) cargo test --profile explore -p relance -p webhook-ingest --features relance/fakes --lib

fuzz: ## Structured fuzzing: FUZZ_INPUTS (default 10,000,000) mutations of the fixtures per parser and route, optimised build, seed printed (hours; not part of `make test`)
	@echo "fuzz: $(FUZZ_INPUTS) inputs per target; replay with make fuzz FUZZ_SEED=$(FUZZ_SEED) (one target: add FUZZ_TARGET=<test name>)"
	FUZZ_INPUTS=$(FUZZ_INPUTS) FUZZ_SEED=$(FUZZ_SEED) cargo test --profile explore -p relance -p webhook-ingest --features relance/fakes --lib $(or $(FUZZ_TARGET),fuzz_) -- --ignored --nocapture --test-threads=1

tools: ## Install the pinned local tools (.venv, .tools/npm) when missing
	@infra/local/tools.sh

up: tools ## Start the local AWS stack (moto + aws-ses-v2-local) and provision it from infra/template.yaml
	@infra/local/stack.sh up

down: ## Stop the local stack (only the processes it started)
	@infra/local/stack.sh down

status: ## Show the local stack's processes and endpoints
	@infra/local/stack.sh status

fmt: ## Format the code
	cargo fmt --all

lint: lint-rust lint-infra ## clippy, cfn-lint and sam validate

lint-rust:
	cargo clippy --workspace --all-targets -- -D warnings

lint-infra: tools
	$(VENV)/cfn-lint infra/template.yaml
	$(VENV)/python infra/check-alarms.py
	$(VENV)/sam validate --lint --template-file infra/template.yaml

build: tools ## sam build: release binaries of every function for the template's Architecture
	PATH="$(CURDIR)/.venv/bin:$$PATH" $(VENV)/sam build --template-file infra/template.yaml --build-dir .aws-sam/build

watch: up ## Serve every function with cargo lambda watch, on the local stack's environment
	PATH="$(CURDIR)/.venv/bin:$$PATH" cargo lambda watch --invoke-address 127.0.0.1 --invoke-port 9000 --env-file $(LOCAL)/stack.env

dispatch: ## Deliver bus events and due schedules to the functions served by `make watch`
	cargo run -q -p relance-tests --bin relance-dispatch

bench: tools ## Benchmarks of the hot paths: webhook-ingest's verify+parse+normalise, profile-update's requests and CPU per event, mail rendering, RFM scoring against pandas, the nightly affinity count, CLV fit and scoring against lifetimes, a 100,000-order import (tables for BENCHMARKS.md)
	cargo bench -p relance --no-default-features --bench ingest
	cargo bench -p relance --no-default-features --features fakes --bench profile
	cargo bench -p relance --no-default-features --bench render
	$(VENV)/pip install --quiet --disable-pip-version-check "pandas==2.3.3"
	cargo bench -p relance --no-default-features --bench segments
	cargo bench -p relance --no-default-features --bench affinity
	$(VENV)/pip install --quiet --disable-pip-version-check "lifetimes==0.11.3"
	cargo bench -p relance --no-default-features --bench clv
	cargo bench -p relance-cli --bench import

scale: up ## The nightly run over 100,000 profiles on the local stack (minutes; not part of `make test`)
	cargo test -p relance-tests --test segments_scale -- --ignored --nocapture

clean-local: down ## Remove local state (.local), keeping installed tools
	rm -rf $(LOCAL)
