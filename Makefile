# Task runner: `make` runs the tests and the linters.
.PHONY: all test lint start bench
all: test lint
test:
	./dev test -q
lint:
	./dev lint
start:
	./dev start
bench:
	.venv/bin/python bench/bench_api.py
