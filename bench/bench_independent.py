"""Score the pipeline on the INDEPENDENT test set (samples/independent), against result.json's contract only.

Generates submissions (or reuses --data), calibrates each of our printings with
`python -m pipeline calibrate`, runs `python -m pipeline run` per printing, and compares every
outbox/<submission>/result.json with OUT/truth/<submission>.json using only the field names of
/work/shared/spec (items.*.answer/choice/marks, declarations, attachments[].labels/pages/label_status,
flags[].code/item). Prints a table by filling way; --json PATH writes the figures.

SEED POLICY: the default seeds 80000-80009 (and all of 80000-80999) are a held-out test set.
They are NEVER to be used for tuning, training or debugging the readers: look at failures only
through this script's report, then make your own cases on other seeds.

    .venv/bin/python bench/bench_independent.py --n 6            # seeds 80000.. one submission each
    .venv/bin/python bench/bench_independent.py --data /tmp/ind  # score an existing set
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DEFAULT_SEEDS = list(range(80000, 80010))
URL_ITEMS = {"2-1-5", "3-3-1", "4-1-1", "4-1-2", "4-1-3", "4-2-1", "4-2-2", "4-2-3", "4-3-1", "4-3-2", "5-1-1", "5-2-1",
             "6-1-1", "6-2-1", "6-2-2", "7-4-1", "7-5-2"}  # the items printed with トップページ → 該当 URL lines
WAYS = ("word", "word_scan", "hand_scan", "project_hand_scan")


def _run(cmd: list[str], timeout: float) -> tuple[int, str]:
    try:
        p = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout)
        return p.returncode, (p.stdout + p.stderr)
    except subprocess.TimeoutExpired:
        return -1, f"timeout after {timeout:.0f} s"


def generate(data: Path, seeds: list[int], n: int) -> None:
    """n submissions spread over the seeds (one seed gives up to n // len(seeds) + 1)."""
    from samples.independent.generate import generate as gen

    per = max(1, -(-n // len(seeds)))
    made = 0
    for j, seed in enumerate(seeds):
        if made >= n:
            break
        k = min(per, n - made)
        # rotate the filling ways so that a few seeds already cover all four
        gen(data, seed, k, ways=WAYS[j % len(WAYS):] + WAYS[: j % len(WAYS)])
        made += k


def calibrate(data: Path, work: Path, printing: str) -> dict:
    form = work / "forms" / printing
    form.mkdir(parents=True, exist_ok=True)
    for f in ("items.yaml", "form.yaml"):
        shutil.copy(REPO / "forms" / "renewal" / f, form / f)
    rc, log = _run([sys.executable, "-m", "pipeline", "calibrate", str(data / "printings" / printing / "blank.pdf"),
                    "--out", str(form), "--items-from", str(REPO / "forms" / "renewal")], 600)
    unplaced = [ln.strip() for ln in log.splitlines() if any(w in ln.lower() for w in ("unplaced", "not placed", "not_located", "could not"))]
    return {"printing": printing, "rc": rc, "ok": rc == 0 and (form / "layout.yaml").exists(), "unplaced": unplaced,
            "log_tail": log.strip().splitlines()[-5:]}


def _marks(ans: dict) -> dict[str, str]:
    return {m.get("option"): m.get("state") for m in ans.get("marks", []) if isinstance(m, dict)}


class Tally:
    def __init__(self) -> None:
        self.c: dict[str, float] = defaultdict(float)
        self.events: list[str] = []

    def add(self, k: str, v: float = 1) -> None:
        self.c[k] += v


def score_one(truth: dict, result: dict, t: Tally) -> None:
    sub = truth["submission"]
    # boxes and answers: items and declarations
    groups = [("items", truth["items"], result.get("items", {})), ("declarations", truth["declarations"], result.get("declarations", {}))]
    for kind, tru, res in groups:
        for iid, tv in tru.items():
            rv = res.get(iid) or {}
            rm = _marks(rv)
            for opt, state in tv["marks"].items():
                t.add("boxes")
                got = rm.get(opt)
                if got == state:
                    t.add("boxes_ok")
                elif got == "uncertain":
                    t.add("boxes_uncertain")
                elif got is None:
                    t.add("boxes_absent")
                else:
                    t.add("boxes_silent")
                    style = (tv.get("mark_styles") or {}).get(opt)
                    t.add(f"silent_box_{style or 'empty_box'}")
                    t.events.append(f"{sub}: {kind} {iid} box {opt}: truth {state}{' (' + style + ')' if style else ''}, result {got}")
            t.add("answers")
            ta, ra = tv["answer"], rv.get("answer")
            if ta == ra:
                t.add("answers_ok")
            elif ra == "uncertain":
                t.add("answers_uncertain")
            else:
                t.add("answers_silent")
                t.events.append(f"{sub}: {kind} {iid} answer: truth {ta}, result {ra}")
            if tv.get("choice") is not None or (kind == "items" and iid in ("3-1-7", "7-0-2") and ta == "yes"):
                t.add("choices")
                if rv.get("choice") == tv.get("choice"):
                    t.add("choices_ok")
                else:
                    t.events.append(f"{sub}: {kind} {iid} choice: truth {tv.get('choice')}, result {rv.get('choice')}")

    # evidence kinds an applicant writes on the form (document is scored through missing_document)
    for iid, tv in truth["items"].items():
        if tv["answer"] != "yes":
            continue
        ev = {e.get("kind"): e.get("status") for e in (result.get("items", {}).get(iid) or {}).get("evidence", [])}
        wanted = {"signature": tv["signed"] if "sign" in tv["evidence"] else None,
                  "seal": tv["sealed"] if "seal" in tv["evidence"] else None,
                  "url_path": (tv["url_path"] is not None) if iid in URL_ITEMS else None}
        for kind, present in wanted.items():
            if present is None:
                continue
            got = ev.get(kind)
            if got == "not_required":
                continue  # e.g. a doc|url item whose document is attached: the path is not judged
            t.add(f"ev_{kind}")
            want = "present" if present else "missing"
            if got == want:
                t.add(f"ev_{kind}_ok")
            elif got in ("uncertain", None):
                t.add(f"ev_{kind}_uncertain")
            else:
                t.add(f"ev_{kind}_silent")
                t.events.append(f"{sub}: {iid} {kind}: truth {want}, result {got}")

    # attachments: find the result attachment holding each truth attachment's first page
    form_pages = {(p["file"], p["page"]) for p in truth["form_pages"]}
    res_atts = result.get("attachments", [])
    page_owner = {}
    for ra in res_atts:
        for pr in ra.get("pages", []):
            page_owner[(pr.get("file"), pr.get("page"))] = ra
            if (pr.get("file"), pr.get("page")) in form_pages:
                t.add("form_pages_taken_as_attachment")
                t.events.append(f"{sub}: form page {pr.get('file')} p{pr.get('page')} taken as attachment {ra.get('id')}")
    for ta in truth["attachments"]:
        hw = "handwritten" if ta["handwritten"] else "typed"
        t.add(f"labels_{hw}")
        ra = page_owner.get((ta["file"], ta["pages"][0]))
        want = sorted(ta["labels"])
        if ra is None:
            t.add(f"labels_{hw}_no_attachment")
            t.events.append(f"{sub}: attachment {ta['id']} ({ta['file']} p{ta['pages'][0]}, {want}) not in result attachments")
            continue
        got = sorted(ra.get("labels", []))
        status = ra.get("label_status")
        if got == want:
            t.add(f"labels_{hw}_ok")
        elif status in ("uncertain", "missing"):
            t.add(f"labels_{hw}_uncertain")
        else:
            t.add(f"labels_{hw}_silent")
            t.events.append(f"{sub}: attachment {ta['id']} label {ta.get('label_text')!r} truth {want}, read {got} ({status}, raw {ra.get('label_text')!r})")
    # missing_document flags
    flagged = {f.get("item") for f in result.get("flags", []) if f.get("code") == "missing_document"}
    url_flagged = {f.get("item") for f in result.get("flags", []) if f.get("code") == "missing_url_path"}
    unconfirmed = {f.get("item") for f in result.get("flags", []) if f.get("code") == "unconfirmed_document"}
    if_yes = {f.get("item") for f in result.get("flags", []) if f.get("code") == "missing_document_if_yes"}
    unless_url = {f.get("item") for f in result.get("flags", []) if f.get("code") == "missing_document_unless_url"}
    expected = set(truth["missing_document"])
    for item in expected:
        t.add("missdoc_expected")
        if item in flagged or (item in url_flagged and "doc|url" in truth["items"][item]["evidence"]):
            t.add("missdoc_found")
        elif item in unconfirmed:  # an unread label could be this document: left to the reviewer, said so
            t.add("missdoc_unconfirmed")
            t.events.append(f"{sub}: missing_document for {item} expected, unconfirmed_document instead (an unread label could be it)")
        elif item in if_yes:  # the answer was read uncertain: the warning says the document is missing if it is yes
            t.add("missdoc_if_yes")
            t.events.append(f"{sub}: missing_document for {item} expected, missing_document_if_yes instead (answer read uncertain)")
        elif item in unless_url:  # the URL place was in doubt: the warning says the document is missing unless a path is written
            t.add("missdoc_unless_url")
            t.events.append(f"{sub}: missing_document for {item} expected, missing_document_unless_url instead (URL place in doubt)")
        else:
            t.add("missdoc_silent")
            t.events.append(f"{sub}: missing_document for {item} expected, not flagged")
    for item in flagged:
        t.add("missdoc_flagged")
        if item in expected:
            t.add("missdoc_flagged_ok")
        else:
            atts = truth["items"].get(item, {}).get("attachments")
            t.events.append(f"{sub}: missing_document flagged for {item}, truth answer {truth['items'].get(item, {}).get('answer')} attachments {atts}")


_CJK = r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]"


def _norm_text(text: str | None) -> str:
    """A field text as compared: NFKC, white space collapsed, none beside Japanese (spacing there is cosmetic)."""
    import re
    import unicodedata

    t = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text or "")).strip()
    return re.sub(rf"(?<={_CJK}) | (?={_CJK})", "", t)


def score_fields(truth: dict, result: dict, t: Tally) -> None:
    """Field score: each cover and contact field's truth text against result.json's value and status.

    Per field written in the truth or given a value by the pipeline: `read` and equal (after
    _norm_text) is fld_read_ok, `read` and different fld_read_wrong (a silent error), uncertain /
    handwritten fld_flagged, empty or absent while the truth has text fld_missed. The figure
    asked of the readers is the precision of `read`: fld_read_ok / (fld_read_ok + fld_read_wrong).
    """
    sub = truth["submission"]
    wanted = {f"applicant.{k}": v for k, v in (truth.get("applicant") or {}).items()}
    wanted.update(truth.get("contacts") or {})
    got = {f"applicant.{k}": v for k, v in (result.get("applicant") or {}).items() if isinstance(v, dict)}
    got.update({k: v for k, v in (result.get("contacts") or {}).items() if isinstance(v, dict)})
    # a value read in a contact block the truth left empty is wrong too; the truth does not hold the
    # closing date (respondent.date) or the declarations' dates, so those are not scored
    blocks = ("applicant.", "respondent.", "contact.", "security_contact.")
    extra = {k for k, v in got.items() if v.get("status") == "read" and k.startswith(blocks) and k != "respondent.date"}
    for name in sorted(set(wanted) | extra):
        if name not in got:
            continue  # a place this printing does not have (or the pipeline does not report)
        want, res = _norm_text(wanted.get(name)), got[name]
        status, value = res.get("status"), _norm_text(res.get("value"))
        if name.endswith("date") and want.startswith(("令和", "平成")) and not value.startswith(("令和", "平成")):
            want = want[2:]  # hand fillings write only the digits into a printed 「年 月 日」: the truth's era is not on the page
        if status == "read" and not want and not value:
            continue
        t.add("fld")
        if status == "read":
            if value == want:
                t.add("fld_read_ok")
            else:
                t.add("fld_read_wrong")
                t.events.append(f"{sub}: field {name} read {res.get('value')!r}, truth {wanted.get(name)!r}")
        elif status in ("uncertain", "handwritten"):
            t.add("fld_flagged")
        elif want:
            t.add("fld_missed")
            t.events.append(f"{sub}: field {name} {status}, truth {wanted.get(name)!r}")
        else:
            t.add("fld_empty_ok")


def pct(a: float, b: float) -> str:
    return f"{100 * a / b:5.1f}" if b else "  -  "


def table(by_way: dict[str, Tally], failures: dict[str, list[str]]) -> tuple[str, dict]:
    cols = [w for w in WAYS if w in by_way] + ["all"]
    total = Tally()
    for tt in by_way.values():
        for k, v in tt.c.items():
            total.add(k, v)
    by = {**by_way, "all": total}
    rows = [
        ("submissions scored", lambda c: f"{int(c['submissions']):5d}"),
        ("pipeline failures", lambda c: f"{int(c['failures']):5d}"),
        ("boxes correct %", lambda c: pct(c["boxes_ok"], c["boxes"])),
        ("boxes silent wrong (n)", lambda c: f"{int(c['boxes_silent']):5d}"),
        ("boxes uncertain %", lambda c: pct(c["boxes_uncertain"], c["boxes"])),
        ("boxes absent (n)", lambda c: f"{int(c['boxes_absent']):5d}"),
        ("items+decl answers correct %", lambda c: pct(c["answers_ok"], c["answers"])),
        ("answers silent wrong (n)", lambda c: f"{int(c['answers_silent']):5d}"),
        ("answers uncertain %", lambda c: pct(c["answers_uncertain"], c["answers"])),
        ("choices correct %", lambda c: pct(c["choices_ok"], c["choices"])),
        ("signature present/missing ok %", lambda c: pct(c["ev_signature_ok"], c["ev_signature"])),
        ("signature silent wrong (n)", lambda c: f"{int(c['ev_signature_silent']):5d}"),
        ("seal present/missing ok %", lambda c: pct(c["ev_seal_ok"], c["ev_seal"])),
        ("seal silent wrong (n)", lambda c: f"{int(c['ev_seal_silent']):5d}"),
        ("url path present/missing ok %", lambda c: pct(c["ev_url_path_ok"], c["ev_url_path"])),
        ("url path uncertain %", lambda c: pct(c["ev_url_path_uncertain"], c["ev_url_path"])),
        ("labels typed correct %", lambda c: pct(c["labels_typed_ok"], c["labels_typed"])),
        ("labels handwritten correct %", lambda c: pct(c["labels_handwritten_ok"], c["labels_handwritten"])),
        ("silent mislabels (n)", lambda c: f"{int(c['labels_typed_silent'] + c['labels_handwritten_silent']):5d}"),
        ("attachments not found (n)", lambda c: f"{int(c['labels_typed_no_attachment'] + c['labels_handwritten_no_attachment']):5d}"),
        ("missing_document recall %", lambda c: pct(c["missdoc_found"], c["missdoc_expected"])),
        ("missing_document precision %", lambda c: pct(c["missdoc_flagged_ok"], c["missdoc_flagged"])),
        ("  missing: unconfirmed instead (n)", lambda c: f"{int(c['missdoc_unconfirmed']):5d}"),
        ("  missing: if-yes warning instead (n)", lambda c: f"{int(c['missdoc_if_yes']):5d}"),
        ("  missing: unless-URL warning instead (n)", lambda c: f"{int(c['missdoc_unless_url']):5d}"),
        ("  missing: no flag at all (n)", lambda c: f"{int(c['missdoc_silent']):5d}"),
        ("form pages taken as attachments", lambda c: f"{int(c['form_pages_taken_as_attachment']):5d}"),
        ("fields scored (n)", lambda c: f"{int(c['fld']):5d}"),
        ("fields read (n)", lambda c: f"{int(c['fld_read_ok'] + c['fld_read_wrong']):5d}"),
        ("fields read: right % (precision)", lambda c: pct(c["fld_read_ok"], c["fld_read_ok"] + c["fld_read_wrong"])),
        ("fields read wrong (n)", lambda c: f"{int(c['fld_read_wrong']):5d}"),
        ("fields uncertain/handwritten %", lambda c: pct(c["fld_flagged"], c["fld"])),
        ("fields written, read empty (n)", lambda c: f"{int(c['fld_missed']):5d}"),
    ]
    lines = [f"{'':34s}" + "".join(f"{c:>19s}" for c in cols)]
    for name, fn in rows:
        lines.append(f"{name:34s}" + "".join(f"{fn(by[c].c):>19s}" for c in cols))
    figures = {c: dict(by[c].c) for c in cols}
    return "\n".join(lines), figures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default=",".join(map(str, DEFAULT_SEEDS)), help="comma-separated (default 80000-80009)")
    ap.add_argument("--n", type=int, default=10, help="submissions to generate")
    ap.add_argument("--data", type=Path, help="use (or fill, if empty) this generated set")
    ap.add_argument("--work", type=Path, help="where calibrated forms and outboxes go (default: a temp dir)")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--events", type=int, default=40, help="how many individual errors to print")
    a = ap.parse_args(argv)
    t0 = time.monotonic()
    work = a.work or Path(tempfile.mkdtemp(prefix="bench-independent-"))
    data = a.data or (work / "data")
    if not (data / "printing_of.json").exists():
        generate(data, [int(s) for s in a.seeds.split(",")], a.n)
    printing_of: dict[str, str] = json.loads((data / "printing_of.json").read_text(encoding="utf-8"))
    t_gen = time.monotonic() - t0

    calib = {}
    for pr in sorted(set(printing_of.values())):
        if pr == "renewal":
            calib[pr] = {"printing": pr, "ok": True, "rc": 0, "unplaced": [], "note": "project's own form, not calibrated"}
            continue
        calib[pr] = calibrate(data, work, pr)

    by_way: dict[str, Tally] = {}
    failures: dict[str, list[str]] = defaultdict(list)
    all_events: list[str] = []
    for pr in sorted(set(printing_of.values())):
        subs = [s for s, p in printing_of.items() if p == pr]
        inbox = work / "inbox" / pr
        if inbox.exists():
            shutil.rmtree(inbox)
        inbox.mkdir(parents=True)
        for s in subs:
            shutil.copytree(data / "inbox" / s, inbox / s)
        outbox = work / "outbox" / pr
        form = REPO / "forms" / "renewal" if pr == "renewal" else work / "forms" / pr
        rc, log = (0, "")
        if calib[pr]["ok"]:
            rc, log = _run([sys.executable, "-m", "pipeline", "run", "--inbox", str(inbox), "--outbox", str(outbox),
                            "--form", str(form), "--jobs", str(a.jobs), "--no-render", "-q"], 3600)
        for s in subs:
            truth = json.loads((data / "truth" / f"{s}.json").read_text(encoding="utf-8"))
            t = by_way.setdefault(truth["way"], Tally())
            res_path = outbox / s / "result.json"
            if not calib[pr]["ok"]:
                t.add("failures")
                failures[s].append(f"calibrate of {pr} failed (rc {calib[pr]['rc']})")
                continue
            if not res_path.exists():
                t.add("failures")
                err = outbox / s / "error.log"
                failures[s].append(f"no result.json (run rc {rc}); " + (err.read_text(errors="replace")[-300:] if err.exists() else log[-300:]))
                continue
            try:
                result = json.loads(res_path.read_text(encoding="utf-8"))
                t.add("submissions")
                score_one(truth, result, t)
                score_fields(truth, result, t)
            except Exception as e:  # a malformed result is a finding, not a crash of the bench
                t.add("failures")
                failures[s].append(f"result.json unreadable or off-contract: {e!r}")
    for tt in by_way.values():
        all_events.extend(tt.events)

    print(f"independent set: {data}  ({len(printing_of)} submissions; generated in {t_gen:.0f} s)")
    print("\ncalibration:")
    for pr, c in calib.items():
        print(f"  {pr:22s} {'ok' if c['ok'] else 'FAILED'}  rc={c['rc']}  unplaced/notes: {len(c['unplaced'])}")
        for u in c["unplaced"][:8]:
            print(f"      {u[:150]}")
        if not c["ok"]:
            for ln in c.get("log_tail", []):
                print(f"      | {ln[:150]}")
    text, figures = table(by_way, failures)
    print("\n" + text)
    if failures:
        print("\nfailures:")
        for s, msgs in failures.items():
            for m in msgs:
                print(f"  {s}: {m[:300]}")
    if all_events:
        print(f"\nerrors ({len(all_events)}; first {a.events}):")
        for e in all_events[: a.events]:
            print("  " + e)
    print(f"\ntotal {time.monotonic() - t0:.0f} s; work dir {work}")
    if a.json:
        a.json.write_text(json.dumps({"calibration": calib, "figures": figures, "failures": failures, "events": all_events},
                                     ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
