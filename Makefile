# Krill: the two commands are `make run` and `make test`. Everything they need is installed here.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

NODE_BIN := $(shell ./scripts/ensure-node.sh)
export PATH := $(NODE_BIN):$(CURDIR)/node_modules/.bin:$(PATH)

# Debian packages, Maven-resolved Kafka jars (the reference broker and CLI tools) and compat clients.
.PHONY: deps
deps:
	./scripts/install-compat-deps.sh

.PHONY: help install build run test unit typecheck lint format generate generate-config-keys check-generated compat compat-subset compat-quorum compat-cluster pack-check bench bench-quick bench-cpu chaos clean

help:
	@echo "make run    - install, build and start a broker on 127.0.0.1:9092 with data under ./data"
	@echo "make test   - install and run everything CI runs"
	@echo "other targets: install build generate check-generated lint typecheck unit compat pack-check bench bench-quick chaos clean"

# `npm install` (not `npm ci`): the registry here serves only this platform's optional native
# packages, so the lockfile lists no other platforms' binaries and `npm ci` would refuse it.
# With a lockfile present `npm install` installs exactly the locked versions.
node_modules/.install-stamp: package.json package-lock.json
	npm install --no-audit --no-fund
	@touch $@

install: node_modules/.install-stamp

build: install
	tsc -p tsconfig.build.json
	tsx tools/build/bundle.ts
	@chmod +x bin/krill

run: build
	mkdir -p data
	./bin/krill start --override log.dirs=./data --override listeners=PLAINTEXT://127.0.0.1:9092 \
	  --override krill.log.format=pretty

# The codecs are generated from the message specs inside the Kafka jars of the version pinned in
# tools/codegen/kafka-specs.ts (resolved through Maven, extracted under compat-tests/.cache/);
# KAFKA_SPEC_DIR=<folder or Kafka checkout> generates from elsewhere.
generate: install
	tsx tools/codegen/main.ts --out src/protocol/generated

check-generated: install
	tsx tools/codegen/check.ts --out src/protocol/generated
	tsx tools/config-keys/generate.ts --check

# Kafka's broker keys from its ConfigDef in the 4.4.0 jars (Java and Maven, as `make deps` installs).
generate-config-keys: install
	tsx tools/config-keys/generate.ts

lint: install
	biome check .
	tsx scripts/update-readme.ts --check

format: install
	biome check --write .
	tsx scripts/update-readme.ts

typecheck: install
	tsc -p tsconfig.json --noEmit

unit: install
	vitest run

test: install deps check-generated lint typecheck build pack-check compat-subset unit

# The npm package as a user installs it: npm pack, install into a scratch project, krill --version,
# krill start reached by kcat, import { startBroker } (scripts/pack-check.sh).
pack-check: install
	./scripts/pack-check.sh

compat: build
	./compat-tests/run-all.sh

compat-subset: build
	./compat-tests/run-subset.sh

# Three KRaft nodes read by kafka-metadata-quorum, the leader killed -9 and restarted, on Krill and
# on Kafka (compat-tests/quorum/run.sh; several minutes, so not in `make test`).
compat-quorum: build deps
	./compat-tests/quorum/run.sh $(QUORUM_ARGS)

# Three combined nodes: Kafka's tools through each, kill -9 of a partition leader and of the group
# and transaction coordinators' nodes, on Kafka then Krill (compat-tests/cluster/run.sh, also part
# of `make compat`; CLUSTER_ARGS="--target krill" for one target).
compat-cluster: build deps
	./compat-tests/cluster/run.sh $(CLUSTER_ARGS)

bench: build
	./bench/run.sh

bench-quick: build
	./bench/run.sh --quick

# CPU-seconds per GiB at a fixed rate on pinned cores, Krill and Kafka against the floor (docs/bench.md).
bench-cpu: build deps
	tsx bench/src/cpu-per-gib.ts $(BENCH_CPU_ARGS)

# A chaos run (docs/faults.md): CHAOS_ARGS="--target kafka --duration-s 300 --seed 7", for example.
chaos: build deps
	./chaos/deps.sh
	./chaos/run.sh $(CHAOS_ARGS)

clean:
	rm -rf dist
