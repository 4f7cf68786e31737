"""The review station: a local web page where the reviewer checks, corrects and signs (issue 14).

A face, like cli.py: it may use every part below (model, form, rules, run, output, ...), and
no part below may ever import it (never import pipeline.station from another part). It is a
second writer of the same review.yaml, through the same validation (rules.review_check) —
never a second source of truth: every page is built from outbox/<name>/result.json and
review.yaml as they are on disk, and a save re-runs that submission with `python -m pipeline run`.

Modules: `app` (routes), `views` (page contexts from result.json), `edits` (review.yaml
round-trip edits, stale-save check, atomic write), `rerun` (the background run, outbox lock
respected), `security` (token, password, sessions, CSRF, safe paths), `serve` (uvicorn).
"""

from __future__ import annotations
