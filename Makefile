# tap-deploy — the commands for a newcomer are `make check` (seconds to minutes,
# nothing to install), `make demo` and `make test` (everything).
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO            ?= go
# Rounds of each comparison make bench times, after a warm-up.
ROUNDS        ?= 5
BIN           := $(CURDIR)/bin
PULUMI_VERSION := $(shell cd tools && $(GO) list -m -f '{{.Version}}' github.com/pulumi/pulumi/sdk/v3)
AWS_VERSION    := $(shell $(GO) list -m -f '{{.Version}}' github.com/pulumi/pulumi-aws/sdk/v6)
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
ZIPS          := internal/artifacts/zips
DEMO          := $(CURDIR)/.tap/demo
# Not in ./bin: that folder is on PATH, and a plugin there must never shadow
# the pinned one in PULUMI_HOME.
SANDBOX       := $(CURDIR)/.tap/sandbox/pulumi-resource-aws
# The AWS emulator the contract tests compare the sandbox with (test/moto);
# test/requires holds the same version.
MOTO_VERSION  := 5.2.1
CFN_LINT_VERSION := 1.51.0

export PATH := $(BIN):$(PATH)

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

.PHONY: tools
tools: $(BIN)/pulumi $(BIN)/actionlint ## build the pinned Pulumi CLI and actionlint from the Go module proxy into ./bin

$(BIN)/actionlint: tools/lint/go.mod tools/lint/go.sum
	cd tools/lint && $(GO) build -trimpath -o $(BIN)/actionlint github.com/rhysd/actionlint/cmd/actionlint

# Static (no cgo), so the same binary runs here and in the image's scratch-like base.
$(BIN)/pulumi: tools/go.mod tools/go.sum
	@echo "building the Pulumi CLI $(PULUMI_VERSION) (about 3 minutes the first time, then cached)"
	cd tools && CGO_ENABLED=0 $(GO) build -trimpath \
		-ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$(PULUMI_VERSION)" \
		-o $(BIN)/pulumi github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
	@$(BIN)/pulumi version

.PHONY: lambdas
lambdas: ## cross-compile the Lambda functions into reproducible zips
	$(GO) run ./internal/artifacts/build/cmd -out $(ZIPS)

.PHONY: build
build: lambdas ## build the action binary with the Lambda zips embedded
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN)/tap-deploy .

.PHONY: record-events
record-events: tools ## record again the engine event streams internal/outcome's tests replay (internal/outcome/testdata/events)
	PATH=$(BIN):$$PATH $(GO) run ./internal/outcome/record

.PHONY: sandbox
sandbox: ## build the sandbox cloud (the stand-in aws plugin for tests and demos)
	CGO_ENABLED=0 $(GO) build -o $(SANDBOX) ./test/sandbox/cmd/pulumi-resource-aws

.PHONY: test-deps
test-deps: tools ## install what the tests start: the Pulumi CLI, dynalite and AWS's IAM data, moto, cfn-lint, a container runtime
	cd test && npm ci --no-audit --no-fund --loglevel=error
	@if command -v moto_server >/dev/null && python3 -c 'import moto, sys; sys.exit(moto.__version__ != "$(MOTO_VERSION)")' 2>/dev/null; then \
	  echo "moto $(MOTO_VERSION) is installed"; \
	else \
	  python3 -m pip install --quiet 'moto[server]==$(MOTO_VERSION)'; \
	fi
	@command -v cfn-lint >/dev/null || python3 -m pip install --quiet 'cfn-lint==$(CFN_LINT_VERSION)'
	@./test/image/install-runtime

# The fast tier: what `go test ./...` runs on a fresh clone. -short skips
# every test that needs a tool (the Pulumi CLI, dynalite, the Lambda zips, a
# container runtime; see test/requires) even where it is installed and CI is
# set, so the tier is the same everywhere. No -race: it doubles the build, and
# `make test` runs the same tests under the race detector.
.PHONY: check
check: ## the fast tier, nothing to install: vet and the tests that need no tool
	$(GO) vet ./...
	$(GO) test -short -timeout 10m ./...

.PHONY: test
test: test-deps lambdas ## run every test (vet, race detector), then build and run the image
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 40m $$($(GO) list ./... | grep -v '/test/image$$')
	$(GO) test -count=1 -timeout 20m -v ./test/image

# The image is assembled from binaries built here (goreleaser/ko style): the
# Dockerfile only copies dist/image onto a base. Releases install the real aws
# plugin with the pinned CLI; the image test passes the sandbox's binary.
IMAGE_CONTEXT ?= $(CURDIR)/dist/image
AWS_PLUGIN    ?=
PLUGIN_DIR     = $(IMAGE_CONTEXT)/plugins/resource-aws-$(AWS_VERSION)

.PHONY: image-context
image-context: tools build ## stage the image's binaries in dist/image (AWS_PLUGIN=<binary> replaces the real aws plugin)
	rm -rf $(IMAGE_CONTEXT) && mkdir -p $(IMAGE_CONTEXT)/bin $(PLUGIN_DIR)
	cp $(BIN)/tap-deploy $(BIN)/pulumi $(IMAGE_CONTEXT)/bin/
ifeq ($(AWS_PLUGIN),)
	home=$$(mktemp -d) && PULUMI_HOME=$$home $(BIN)/pulumi plugin install resource aws $(AWS_VERSION:v%=%) && \
	  cp $$home/plugins/resource-aws-$(AWS_VERSION)/pulumi-resource-aws $(PLUGIN_DIR)/ && rm -rf $$home
else
	cp $(AWS_PLUGIN) $(PLUGIN_DIR)/pulumi-resource-aws
endif
	chmod 0755 $(IMAGE_CONTEXT)/bin/* $(PLUGIN_DIR)/pulumi-resource-aws

.PHONY: demo
demo: tools build sandbox ## preview the stack for a pull request, against a local file backend and the sandbox cloud
	@rm -rf $(DEMO) && mkdir -p $(DEMO)/pulumi-home/plugins/resource-aws-v$(AWS_VERSION:v%=%)
	@cp $(SANDBOX) $(DEMO)/pulumi-home/plugins/resource-aws-v$(AWS_VERSION:v%=%)/
	cd $(DEMO) && \
	PULUMI_HOME=$(DEMO)/pulumi-home TAP_SANDBOX_STATE=$(DEMO)/sandbox-cloud.json \
	PULUMI_CONFIG_PASSPHRASE=demo-only GITHUB_EVENT_NAME=pull_request \
	GITHUB_EVENT_PATH=$(CURDIR)/test/fixtures/github-events/pull_request.opened.json \
	$(BIN)/tap-deploy preview --environment dev --aws-region eu-west-1 --backend-url file://$(DEMO)/state

.PHONY: clean
clean: ## remove build output and demo state
	rm -rf $(BIN)/tap-deploy .tap dist $(ZIPS)/*.zip

.PHONY: bench
bench: tools build ## measure the PR run and the merge deploy against the engine's preview and up, and the compile-per-run baseline; print the table (ROUNDS=3 for fewer rounds)
	$(GO) run ./test/bench -rounds $(ROUNDS)
	$(GO) test -run '^$$' -bench . -benchtime 20x ./internal/render ./internal/policy ./internal/reviewed
