"""The council's settings (council.yaml) and the certificate's terms: license number, dates, withdrawal.

Nothing here reads review.yaml: the terms come from result.json's ``review`` block, which the run
fills from the checked review.yaml (see rules/signoff.py). A certificate is due only when that
block says so (a pass, a named reviewer, an issue date); `settle_certificate` decides.

The 使用許諾番号 is the block's ``certificate.license_number`` when the reviewer gives one;
otherwise the next number of the counter configured in council.yaml, assigned once per pass and
remembered in the registry CSV (outbox/licenses.csv by default), so a re-run reuses it. The issue
date is the block's ``certificate.issued`` (review.yaml's ``certificate.issued`` or the latest
sign-off's date) — never silently the run's date.

When a submission that held a number no longer gets a certificate (its pass turned into a fail,
or lost its reviewer), the number is withdrawn: its registry row is marked ``void`` with when and
why. A void number is never given again, to this submission or another (the counter counts it).
"""

from __future__ import annotations

import csv
import datetime as dt
import fcntl
import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from pipeline.model.errors import PipelineError

log = logging.getLogger(__name__)

# The cover fields (result.json `applicant`) the certificate prints; rules/signoff.CERTIFICATE_FIELDS
# is the same list (a test keeps them equal). One neither read with confidence nor confirmed by the
# reviewer keeps the certificate back, even if the review block says it is due.
PRINTED_FIELDS = {"company_name": "会社名", "service_name": "サービス名", "url": "URL"}
REGISTRY_FIELDS = ["submission", "license_number", "year", "n", "issued", "assigned_at", "status", "voided_at", "void_reason"]
VOID = "void"  # the registry status of a withdrawn number


class CouncilConfigError(PipelineError):
    """council.yaml is missing, unreadable or has a bad value (the message names the key)."""


@dataclass(frozen=True, slots=True)
class CouncilConfig:
    """What council.yaml says; see the comments in that file."""

    name: str
    president_title: str
    president_name: str
    validity_years: int = 2
    date_style: Literal["wareki", "western"] = "wareki"
    license_format: str = "ISP-{year}-{n:04d}"
    registry: str = "licenses.csv"  # relative to the outbox folder unless absolute
    counter_start: int = 1
    reset_yearly: bool = True

    def registry_path(self, outbox: Path) -> Path:
        path = Path(self.registry)
        return path if path.is_absolute() else outbox / path


@dataclass(frozen=True, slots=True)
class CertificateTerms:
    license_number: str
    issued: dt.date
    valid_from: dt.date
    valid_until: dt.date  # inclusive: the day before the anniversary
    source: Literal["review", "counter"]


def load_council(path: Path) -> CouncilConfig:
    """Read council.yaml; raises CouncilConfigError naming the file and key."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise CouncilConfigError(f"{path}: file is missing") from exc
    except (OSError, yaml.YAMLError) as exc:
        raise CouncilConfigError(f"{path}: not readable YAML: {exc}") from exc

    def get(section: str, key: str, default: Any = None, kind: type = str) -> Any:
        value = (data.get(section) or {}).get(key, default)
        if value is None:
            raise CouncilConfigError(f"{path}: '{section}.{key}' is missing")
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise CouncilConfigError(f"{path}: '{section}.{key}' must be a whole number, got {value!r}")
        if kind is bool and not isinstance(value, bool):
            raise CouncilConfigError(f"{path}: '{section}.{key}' must be true or false, got {value!r}")
        return str(value) if kind is str else value

    cfg = CouncilConfig(
        name=get("council", "name"),
        president_title=get("council", "president_title", "会長"),
        president_name=get("council", "president_name"),
        validity_years=get("certificate", "validity_years", 2, int),
        date_style=get("certificate", "date_style", "wareki"),
        license_format=get("license_number", "format", "ISP-{year}-{n:04d}"),
        registry=get("license_number", "registry", "licenses.csv"),
        counter_start=get("license_number", "start", 1, int),
        reset_yearly=get("license_number", "reset_yearly", True, bool),
    )
    if cfg.date_style not in ("wareki", "western"):
        raise CouncilConfigError(f"{path}: 'certificate.date_style' must be wareki or western")
    if cfg.validity_years < 1:
        raise CouncilConfigError(f"{path}: 'certificate.validity_years' must be at least 1")
    try:
        cfg.license_format.format(year=2000, n=1)
    except (KeyError, IndexError, ValueError) as exc:
        raise CouncilConfigError(f"{path}: 'license_number.format' {cfg.license_format!r} may use only {{year}} and {{n}}: {exc}") from exc
    return cfg


# --- dates ------------------------------------------------------------------------------------


def add_years(day: dt.date, years: int) -> dt.date:
    """Same month and day `years` later (29 Feb → 28 Feb in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def format_date(day: dt.date, style: str = "wareki") -> str:
    """令和8年4月1日 (wareki) or 2026年4月1日 (western)."""
    if style == "wareki":
        for start, era in ((dt.date(2019, 5, 1), "令和"), (dt.date(1989, 1, 8), "平成")):
            if day >= start:
                n = day.year - start.year + 1
                return f"{era}{'元' if n == 1 else n}年{day.month}月{day.day}日"
    return f"{day.year}年{day.month}月{day.day}日"


def _as_date(value: object, where: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        log.warning("%s: %r is not a date (YYYY-MM-DD); using the default", where, value)
        return None


# --- the registry -----------------------------------------------------------------------------


def _read_registry(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [dict(row) for row in csv.DictReader(fh)]


def _write_registry(path: Path, rows: list[dict[str, str]]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=REGISTRY_FIELDS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(buf.getvalue(), encoding="utf-8-sig")  # BOM: staff open it in Excel
    os.replace(tmp, path)


def _section(review: Any, name: str) -> dict[str, Any]:
    value = (review or {}).get(name) if isinstance(review, dict) else None
    return value if isinstance(value, dict) else {}


def _active(rows: list[dict[str, str]], submission: str) -> dict[str, str] | None:
    """The submission's registry row that is not withdrawn, if any."""
    return next((r for r in rows if r.get("submission") == submission and (r.get("status") or "") != VOID), None)


def certificate_terms(
    submission: str,
    review: dict[str, Any] | None,
    council: CouncilConfig,
    outbox: Path,
    today: dt.date | None = None,
) -> CertificateTerms:
    """License number, issue date and validity for a submission whose certificate is due.

    `review` is result.json's ``review`` block (its ``certificate``: license_number, issued).
    The issue date is that block's, else the one this submission's number was assigned with,
    else `today` when a caller gives it explicitly; with none of them this is a ValueError (the
    run sees to it that a due certificate has its date). Assigns the next counter number (under
    a file lock, so parallel jobs never share one) when neither the block nor the registry
    already has a number for this submission.
    """
    cert = _section(review, "certificate")
    given_number = str(cert["license_number"]).strip() if cert.get("license_number") not in (None, "") else None
    given_issued = _as_date(cert.get("issued"), f"{submission}: result.json review.certificate.issued")

    registry = council.registry_path(outbox)
    registry.parent.mkdir(parents=True, exist_ok=True)
    with open(registry.with_name(registry.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        rows = _read_registry(registry)
        mine = _active(rows, submission)
        remembered = _as_date(mine.get("issued"), str(registry)) if mine else None
        issued = given_issued or remembered or today
        if issued is None:
            raise ValueError(f"{submission}: no issue date for the certificate (review.yaml certificate.issued or a sign-off date)")
        if given_number:
            # Keep a counter number this submission once had: it may be printed on an old
            # certificate, so it must never go to another submission.
            number, source, n = given_number, "review", (mine or {}).get("n", "")
        elif mine and mine.get("license_number"):
            number, source, n = mine["license_number"], "counter", mine.get("n", "")
        else:
            used = [
                int(r["n"])
                for r in rows
                if (r.get("n") or "").isdigit() and (not council.reset_yearly or r.get("year") == str(issued.year))
            ]
            next_n = max(used, default=council.counter_start - 1) + 1
            number, source, n = council.license_format.format(year=issued.year, n=next_n), "counter", str(next_n)
            log.info("%s: 使用許諾番号 %s を割り当てました", submission, number)
        row = {
            "submission": submission,
            "license_number": number,
            "year": mine["year"] if mine and mine.get("n") and mine.get("year") else str(issued.year),
            "n": n,
            "issued": issued.isoformat(),
            "assigned_at": (mine or {}).get("assigned_at") or dt.datetime.now().isoformat(timespec="seconds"),
            "status": "",
            "voided_at": "",
            "void_reason": "",
        }
        if {k: (mine or {}).get(k) or "" for k in REGISTRY_FIELDS} != row:
            rows = [r for r in rows if r is not mine] + [row]
            _write_registry(registry, rows)
    valid_until = add_years(issued, council.validity_years) - dt.timedelta(days=1)
    return CertificateTerms(number, issued, issued, valid_until, source)  # type: ignore[arg-type]


# --- due or withdrawn ---------------------------------------------------------------------------

_DECISION_JA = {"fail": "不合格", "needs_review": "要確認"}


def settle_certificate(result: dict[str, Any], council: CouncilConfig, outbox: Path) -> CertificateTerms | None:
    """The certificate's terms when result.json says one is due; otherwise None, and any number this submission held is withdrawn.

    Due means a pass whose ``review.certificate.issue`` is true (a named reviewer and an issue
    date: rules/signoff.py) and whose printed cover fields are read or confirmed. The submission is named as the registry knows it (result.json's
    ``submission``).
    """
    submission = str(result.get("submission") or "")
    review = result.get("review") if isinstance(result.get("review"), dict) else None
    cert = _section(review, "certificate")
    decision = str(_section(result, "score").get("decision") or "")
    unsure = unconfirmed_printed_fields(result)
    if decision == "pass" and cert.get("issue") is True and cert.get("issued") and not unsure:
        return certificate_terms(submission, review, council, outbox)
    if decision == "pass" and unsure and cert.get("issue") is True:
        reason = f"合格証に印字する表紙の欄（{'・'.join(PRINTED_FIELDS[k] for k in unsure)}）が審査者に確認されていません"
    elif decision == "pass":
        reason = str(cert.get("reason") or "合格証の発行条件（審査者の氏名・発行日）を満たしていません")
    else:
        reason = f"判定が{_DECISION_JA.get(decision, decision)}に変わりました"
    withdraw_license(submission, council, outbox, reason)
    return None


def unconfirmed_printed_fields(result: dict[str, Any]) -> list[str]:
    """The printed cover fields (keys) of result.json neither read with confidence nor confirmed (`overridden`) by the reviewer."""
    applicant = _section(result, "applicant")
    unsure = []
    for key in PRINTED_FIELDS:
        entry = applicant.get(key)
        if isinstance(entry, dict) and entry.get("status") != "read" and not entry.get("overridden"):
            unsure.append(key)
    return unsure


def withdraw_license(submission: str, council: CouncilConfig, outbox: Path, reason: str) -> str | None:
    """Mark the submission's number void in the registry (when, why); returns the number, or None if it held none.

    The row stays: the number may be printed on a certificate already handed out, and the
    counter, which counts every row, never gives it again.
    """
    registry = council.registry_path(outbox)
    if not registry.is_file():
        return None
    with open(registry.with_name(registry.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        rows = _read_registry(registry)
        mine = _active(rows, submission)
        if mine is None or not mine.get("license_number"):
            return None
        mine.update(status=VOID, voided_at=dt.datetime.now().isoformat(timespec="seconds"), void_reason=reason)
        _write_registry(registry, rows)
    log.warning(
        "%s: 使用許諾番号 %s を取り消しました（%s）。この番号は今後どの申請にも付けません", submission, mine["license_number"], reason
    )
    return mine["license_number"]
