# Ajrly Auth. `make run` starts a demo provider on 127.0.0.1:8080 with the
# embedded SQLite database; `make test` runs every test.

GO      ?= go
BIN     := bin/ajrly-auth
PKGS    := ./...
# the browsers e2e/helpers_chromium_test.go looks for (chromiumNames)
CHROMIUM_CANDIDATES := /usr/bin/chromium chromium chromium-browser google-chrome

.PHONY: all build run test vet fmt-check lint tidy-check bench fuzz clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/ajrly-auth

## run: build and start on 127.0.0.1:8080 with sqlite://ajrly.db and a demo user and client
run: build
	./$(BIN) serve --demo

## test: vet, format check and every test (PostgreSQL and browser tests skip, with a note, when unavailable)
test: vet fmt-check
	@if [ -z "$$AJRLY_TEST_POSTGRES_DSN" ]; then \
		echo "NOTE: AJRLY_TEST_POSTGRES_DSN is not set: the PostgreSQL tests are skipped."; \
		echo "      Set it to run them, e.g. AJRLY_TEST_POSTGRES_DSN=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"; \
	fi
# The note is for when no browser is found: a for loop's status is only its last command's, so the loop
# remembers any candidate it finds.
	@found=; for c in $(CHROMIUM_CANDIDATES); do command -v $$c >/dev/null 2>&1 && found=$$c; done; \
	if [ -z "$$AJRLY_CHROMIUM" ] && [ -z "$$found" ]; then \
		echo "NOTE: Chromium was not found: the browser tests are skipped (apt-get install -y chromium)."; \
	fi
	$(GO) test -count=1 -timeout 30m $(PKGS)

vet:
	$(GO) vet $(PKGS)

## lint: golangci-lint with .golangci.yaml (built from the module proxy on first use, then cached),
## and go.mod and go.sum exactly as go mod tidy leaves them
GOLANGCI_LINT_VERSION := v2.15.0
lint: tidy-check
	$(GO) run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION) run $(PKGS)

tidy-check:
	$(GO) mod tidy -diff

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## fuzz: run each fuzz target in turn for FUZZTIME (default 30s); `make test` runs only their seed corpora
## (testdata/fuzz). A failing input is written under the package's testdata/fuzz: commit it with the fix.
FUZZTIME ?= 30s
FUZZ_TARGETS := \
	./handlers/oauth:FuzzTokenJSONBody \
	./provider/clients:FuzzRedirectURIRules \
	./provider/clients:FuzzRegistrationMetadata \
	./provider:FuzzRequestObject \
	./provider/apikeys:FuzzAPIKeyFormat \
	./provider:FuzzDialAddress \
	./provider/tenancy:FuzzScopeParsing
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz: $$name in $$pkg for $(FUZZTIME)"; \
		$(GO) test $$pkg -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME); \
	done

## bench: the token and introspection benchmarks over real HTTP (set AJRLY_TEST_POSTGRES_DSN for PostgreSQL)
bench:
	$(GO) test ./e2e -run '^$$' -bench . -benchtime=3s -count=1

## example-api: build and start the example resource server (cmd/example-api) on 127.0.0.1:8081, against
## the provider at AJRLY_ISSUER (default http://127.0.0.1:8080); set AJRLY_API_CLIENT_ID and
## AJRLY_API_CLIENT_SECRET to a confidential client's (see docs/api-keys.md, "Run the example API")
.PHONY: example-api
example-api:
	$(GO) build -o bin/example-api ./cmd/example-api
	./bin/example-api

clean:
	rm -rf bin
