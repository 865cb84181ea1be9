# The front door. `make run` serves content/ on http://127.0.0.1:5000; `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
INDEX ?= instance/index
CONTENT ?= content
HOST ?= 127.0.0.1
PORT ?= 5000
DEB_PACKAGES = chromium poppler-utils fonts-noto-cjk nginx

.PHONY: models bench-relevance bench-build bench-http run test deps install install-test index check bench bench-lecard lecard clean translations preview serve axe-update prod

# Running needs only the package; the test extras (playwright, schemathesis, hypothesis) are
# installed by `make test` alone.
$(BIN)/kb: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $(BIN)/kb

$(BIN)/pytest: $(BIN)/kb
	$(BIN)/pip install -q -e '.[test]'
	touch $(BIN)/pytest

install: $(BIN)/kb

install-test: $(BIN)/pytest

# `kb index` exits 1 when some files had problems: they are reported and skipped, the good entries
# are indexed, and the site must still be served. Only 2 or more (a usage error, a crash) stops make.
index: install
	@$(BIN)/kb index --content $(CONTENT) --index $(INDEX); status=$$?; \
	if [ $$status -eq 1 ]; then echo "Serving the good entries; fix the problems above (kb check $(CONTENT))." >&2; \
	elif [ $$status -ne 0 ]; then exit $$status; fi

run: index
	$(BIN)/kb serve --host $(HOST) --port $(PORT) --index $(INDEX)

# Production: gunicorn with several workers over the same index. With --preload, webapp/wsgi.py
# loads the dictionaries and the index once in the master, and the workers share them.
# One worker per core: searches are CPU-bound (bench/RESULTS.md: at (b) on 2 cores, 2 workers
# answered 8 clients with p95 131 ms, 4 workers with 246 ms).
WORKERS ?= $(shell nproc 2>/dev/null || echo 2)
serve: index
	KB_INDEX_DIR=$(INDEX) $(BIN)/gunicorn -c deploy/gunicorn.conf.py -w $(WORKERS) -b $(HOST):$(PORT) webapp.wsgi:app

# Production facing the internet: nginx on $(PROD_LISTEN) in front of gunicorn on $(HOST):$(PORT)
# (loopback). nginx buffers whole requests and answers, limits body and header size and time,
# and rate-limits /api/ per client (deploy/nginx.conf.template); its config, pid, logs and temp
# files live in $(NGINX_PREFIX). Both run in the foreground; Ctrl-C stops both.
PROD_LISTEN ?= 127.0.0.1:8080
NGINX_PREFIX ?= instance/nginx
prod: index
	$(BIN)/python deploy/prod.py run --listen $(PROD_LISTEN) --upstream $(HOST):$(PORT) --prefix $(NGINX_PREFIX) \
	  --index $(INDEX) --workers $(WORKERS)

# Editors' preview: drafts included, rebuilt on save, pages reload themselves.
preview: install
	$(BIN)/kb serve --watch --drafts --content $(CONTENT) --host $(HOST) --port $(PORT)

# Debian packages for the browser and PDF tests and for `make prod` (nginx); needs root (CI runs as root).
deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v pdftotext >/dev/null || missing="$$missing poppler-utils"; \
	[ -d /usr/share/fonts/opentype/noto ] || missing="$$missing fonts-noto-cjk"; \
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(DEB_PACKAGES) >/dev/null; \
	fi

test: install-test deps
	$(BIN)/pytest -q

check: install
	$(BIN)/kb check --strict $(CONTENT)

# After changing interface text: extract msgids, fill from webapp/translations/<lang>.yaml.
translations: install
	$(BIN)/python webapp/translations/build.py

clean:
	rm -rf $(VENV) instance .pytest_cache

# Benchmarks at scale (issue #5): writes bench/RESULTS.md and bench/scale.png; caches in bench/out/.
# A subset or a forced rebuild: make bench BENCH_ARGS="--scales a,b --rebuild".
bench: install
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python -m bench.perf $(BENCH_ARGS)

# Full-build speed at scale (b), the code before issue #16 against this tree, alternating, with CPU seconds.
bench-build: install
	$(BIN)/python -m bench.build_speed $(BENCH_ARGS)

# Real questions through `make serve`'s gunicorn (2 workers) at 1, 4 and 8 clients: the STARD dev
# questions on /api/search at scale (b), this tree against the code before (bench/http_load.py).
bench-http: install
	$(BIN)/python -m bench.stard --index-only
	$(BIN)/python -m bench.http_load $(BENCH_ARGS)

# The learned ranking (indexer/ranking.py): built from the STARD dev questions in ../shared and an
# index of content/ plus the whole statute corpus (scale b, cached in bench/out/relevance/).
STARD ?= ../shared/benchmarks/stard-dev/queries.jsonl
# `make models` also trains the charge classifier on the LeCaRD judgments (below).
models: lecard
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python -m bench.stard --index-only
	$(BIN)/kb train ranker --questions $(STARD) --index bench/out/relevance/index-ours
	$(BIN)/kb train charges --content $(LECARD_DEST) --out $(INDEX)/charges.npz \
	  --exclude-queries ../shared/benchmarks/lecard-dev/queries.jsonl

# Search quality on real questions (issue #12): STARD dev, ours (5-fold cross-validated) beside
# jieba + bm25s, into bench/STARD.md; then the 182 questions of our own (traditional, English).
bench-relevance: install
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python -m bench.stard --update-doc
	$(BIN)/python -m bench.relevance --reuse --systems ours,bm25 --update-doc

# The accessibility tests inject axe-core, vendored in tests/vendor/axe-core/ so that `make test`
# needs neither Node nor the network (see its README). Refresh it from npm: make axe-update AXE_VERSION=4.x.y
AXE_VERSION ?= 4.14.1
axe-update:
	@tmp=$$(mktemp -d) && cd $$tmp && npm pack -q axe-core@$(AXE_VERSION) >/dev/null && tar xzf axe-core-$(AXE_VERSION).tgz && \
	  cp package/axe.min.js package/LICENSE $(CURDIR)/tests/vendor/axe-core/ && rm -rf $$tmp && \
	  sha256sum $(CURDIR)/tests/vendor/axe-core/axe.min.js

# Real criminal judgments (issue #13): LeCaRD's 9,088 judgments as ruling entries, outside git.
LECARD_SRC ?= ../shared/corpus/lecard-judgments
LECARD_DEST ?= instance/lecard
lecard: install
	$(BIN)/kb import lecard $(LECARD_SRC) $(LECARD_DEST)

# The charge classifier similar loads at query time (<index>/charges.npz) is trained by `make models`
# on the judgments; the LeCaRD dev queries' own cases are left out.

# Similar judgments on LeCaRD's dev half vs jieba + bm25s: writes bench/LECARD.md.
bench-lecard: install
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python -m bench.lecard $(BENCH_ARGS)
