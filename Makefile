# Conveniences; scripts/test.sh is the source of truth for what "all tests" means.
.PHONY: test unit bench bench-tools lint demo kafka-up kafka-down

test:            ## everything: vet, unit, embedded and real Kafka, fault suite
	bash scripts/test.sh

unit:            ## unit, golden and embedded-broker tests only (no Java needed)
	go test ./...
	cd bench && go test ./...

bench:           ## go benchmarks (reducer, decoders, encoders)
	go test -run '^$$' -bench . -benchmem ./reducer/ ./schemas/ ./internal/...

bench-tools:     ## the end-to-end harness and its plots (module bench/) into bin/
	go build -C bench -o $(CURDIR)/bin/ ./sessiond-load ./sessiond-plot

lint:
	go vet ./...
	cd bench && go vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)

demo:
	go run ./cmd/sessiond demo

kafka-up:
	scripts/kafka.sh up

kafka-down:
	scripts/kafka.sh down
