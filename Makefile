# Staff drive the pipeline with these targets; `make` alone is `make run`.
SHELL := /bin/bash
PY := .venv/bin/python
INBOX ?= inbox
OUTBOX ?= outbox
FORM ?= forms/renewal
JOBS ?= 0
REVIEW_PORT ?= 8765
APT_PACKAGES := tesseract-ocr tesseract-ocr-jpn tesseract-ocr-eng poppler-utils qpdf \
	fonts-ipaexfont fonts-ipafont libreoffice-writer-nogui libreoffice-core-nogui python3-uno \
	chromium chromium-driver

.PHONY: run setup forms demo test lint golden bench clean review
.DEFAULT_GOAL := run

run: .venv/.installed
	$(PY) -m pipeline run --inbox "$(INBOX)" --outbox "$(OUTBOX)" --form "$(FORM)" --jobs $(JOBS)

setup: .venv/.installed

.venv/.installed: requirements.txt requirements-nodeps.txt scripts/ensure-system-packages.sh
	bash scripts/ensure-system-packages.sh $(APT_PACKAGES)
	test -x $(PY) || python3 -m venv .venv
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -r requirements-nodeps.txt
	touch $@

forms: .venv/.installed
	$(PY) -m pipeline print-form forms/renewal
	$(PY) -m pipeline print-form forms/new
	# forms/alt: another printing (other fonts, breaks, □ glyphs, no marks), read through calibrate
	$(PY) -c "from pipeline.form.printing import ALT; from pipeline.form.printing.api import print_blank_only; print_blank_only('forms/alt', ALT)"
	$(PY) -m pipeline calibrate forms/alt/blank.pdf --out forms/alt

# The review station: a local web page (127.0.0.1 only) to check, correct and sign; it prints the address to open.
review: .venv/.installed
	$(PY) -m pipeline review --outbox "$(OUTBOX)" --inbox "$(INBOX)" --form "$(FORM)" --port $(REVIEW_PORT)

demo: .venv/.installed
	$(PY) -m samples.demo --inbox demo/inbox --outbox demo/outbox
	$(PY) -m pipeline run --inbox demo/inbox --outbox demo/outbox --form forms/renewal --force

test: .venv/.installed lint
	$(PY) -m pytest -q

lint: .venv/.installed
	$(PY) -m ruff check pipeline tests bench samples
	$(PY) -m mypy pipeline

golden: .venv/.installed
	$(PY) -m tests.update_goldens

clean:
	rm -rf demo/outbox
