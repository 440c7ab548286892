.PHONY: run test lint bench docs clean

run:  ## set up .venv, create the database, load the demo company once, serve on :8000
	scripts/run

test:  ## set up everything (PostgreSQL, Chromium), lint, type-check and run every test
	scripts/test

lint:  ## ruff format --check, ruff check, mypy
	scripts/bootstrap --dev
	scripts/check

bench:  ## benchmarks against peers; figures go to bench/README.md
	scripts/bootstrap --dev
	.venv/bin/python bench/bench_import.py
	.venv/bin/python bench/bench_metrics.py
	.venv/bin/python bench/bench_clv.py
	.venv/bin/python bench/bench_churn.py
	.venv/bin/python bench/bench_drivers.py
	.venv/bin/python bench/bench_paths.py
	.venv/bin/python bench/bench_responses.py
	.venv/bin/python bench/bench_metrics_spark.py

docs:  ## regenerate docs/cli.md from the CLI help
	.venv/bin/python -m cxloop.docgen cli > docs/cli.md
	.venv/bin/python -m cxloop.docgen settings > docs/settings.md

clean:
	rm -rf .venv build dist src/*.egg-info .mypy_cache .ruff_cache .pytest_cache
