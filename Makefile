# tok: the two commands are `make demo` and `make test`.
SWIFT ?= swift
TOK := .build/release/tok

.PHONY: demo test bench bench-train sanitize fuzz deps build clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build -c release --product tok --static-swift-stdlib

# Builds tok and runs the main job on shipped data.
demo: build
	@scripts/demo.sh $(TOK)

# Installs what the tests need and runs every test: Swift unit tests, then the CLI against the real peers.
test: deps build
	@scripts/install-deps.sh test
	$(SWIFT) test --disable-swift-testing
	TOK_BIN=$(TOK) tests/compat/run.sh

# Encode speed against tiktoken, HF tokenizers, gigatoken, fastokens and quicktok, in one run.
bench: build
	bench/setup.sh && .venv/bin/python bench/bench.py --tok $(TOK)

# Training speed and memory against HF tokenizers, SentencePiece and bpeasy on a 100 MB corpus, in one run.
bench-train: build
	bench/setup.sh && .venv/bin/python bench/train_bench.py --tok $(TOK)

# AddressSanitizer and ThreadSanitizer builds of the tests and of tok, run on the unsafe and the concurrent code.
sanitize: deps build
	@scripts/install-deps.sh test
	scripts/sanitize.sh

# libFuzzer with AddressSanitizer on the encoder, scanners, parsers and decoders, each target for 60 seconds (fuzz/).
fuzz: deps
	fuzz/run.sh all 60

clean:
	rm -rf .build bench-out
