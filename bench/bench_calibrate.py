"""Calibrate other hands' printings and say how much was placed, and whether typed values land in their fields.

For each seed it makes one printing of the questionnaire the way samples/independent makes it
(the same style and DOCX as `python -m samples.independent --seed S --n 1`), and, with --own, one of
samples/printings; calibrates each blank (learn_layout), and counts the boxes and fields placed.
For the independent printings it then fills the printing's DOCX in Word as that set's applicant
does (samples/independent/fill_word: text typed into the blanks, reflowing) and checks, for every
typed value, that its characters lie inside the calibrated field's box: `inside`, `outside` (the
box misses where the value was typed), `wrapped` (its first line inside the box, the rest wrapped
under it within the box's columns: a framed cell that grew), `pushed` (longer than the room
before the print after it, 人 or 印, which it pushed right), or `moved` / `far` (its print not
found, or not told apart from a like line). A field whose print an earlier answer pushed down (a
pasted signature is taller than a line) is judged against its box moved by as much; a value the
first judge leaves moved or far is judged again from its own print found further on (its label
and the value after it, the sentence over an answer space, a lone date: Word's reflow carries
many onto the next page), and counted in `by_print` too.

SEED POLICY: 80000-80999 belong to the independent set's held-out runs and are refused.

    .venv/bin/python bench/bench_calibrate.py --seed 85000 --n 20 --work /tmp/h5/bench
    .venv/bin/python bench/bench_calibrate.py --seed 100 --n 8 --own --no-independent
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BAND_PT = 24.0  # the print around a field looked at for reflow (as reading/read_digital.print_moved)


def _norm(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if not ch.isspace())


def independent_printings(work: Path, seeds: list[int]) -> dict[int, tuple[Any, Path]]:
    """seed → (its PrintStyle, blank.pdf): the printing `python -m samples.independent --seed S --n 1` makes."""
    from samples.independent import docbuild, office, seedform, style

    parts = seedform.parse()
    styles, docs = [], []
    for s in seeds:
        rng = random.Random(s * 7919 + 1)  # as samples/independent/generate.make_printings
        styles.append(style.random_style(rng, f"ind{s}-p0"))
        docs.append(docbuild.build_docx(parts, styles[-1]))
    pdfs = office.to_pdf_many(docs)
    out: dict[int, tuple[Any, Path]] = {}
    for s, st, d, p in zip(seeds, styles, docs, pdfs):
        folder = work / "independent" / str(s)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "blank.docx").write_bytes(d)
        (folder / "blank.pdf").write_bytes(p)
        (folder / "style.json").write_text(json.dumps(st.as_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
        out[s] = (st, folder / "blank.pdf")
    return out


def own_printings(work: Path, seeds: list[int]) -> dict[int, Path]:
    """seed → blank.pdf of samples/printings."""
    from samples.printings import make_printings

    out: dict[int, Path] = {}
    for s in seeds:
        make_printings(work / "own", s, 1)
        out[s] = work / "own" / str(s) / "blank.pdf"
    return out


def plan_for(seed: int) -> Any:
    """An applicant's answers, as samples/independent/generate.make_submission draws them (a declaration's date is never typed in Word there)."""
    from samples.independent import itemsdata, plan

    rng = random.Random(seed * 1_000_003)
    data = itemsdata.load()
    pl = plan.make_plan(rng, data, 0)
    pl.texts["cover.date"] = f"令和{rng.randint(6, 8)}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日"
    pl.texts["closing.date"] = pl.texts["cover.date"]
    return pl


def typed_values(pl: Any) -> dict[str, str]:
    """Layout field name → the value the plan types there."""
    out: dict[str, str] = {}
    for key, value in pl.texts.items():
        head, _, rest = key.partition(".")
        if head == "cover":
            out["applicant." + rest] = value
        elif head == "closing":
            out["respondent.date"] = value
        elif head == "item":
            out[rest] = value
        elif rest == "submitted_date":
            out[f"{head}.reported_date"] = value
        else:
            out[key] = value
    for item, steps in pl.urls.items():
        out[f"{item}.url_top"], out[f"{item}.url_target"] = steps[0], steps[2]
    return out


def _chars(pdf: Path) -> list[list[dict[str, Any]]]:
    import pdfplumber

    with pdfplumber.open(str(pdf)) as doc:
        return [[c for c in p.chars if c["text"].strip()] for p in doc.pages]


def _find(chars: list[dict[str, Any]], value: str, near: list[float]) -> list[dict[str, Any]] | None:
    """The run of `chars` spelling `value` (spaces ignored) nearest to the box `near`."""
    target = _norm(value)
    text, index = "", []
    for i, c in enumerate(chars):
        for ch in _norm(c["text"]):
            text += ch
            index.append(i)
    best, dist = None, 1e9
    start = text.find(target)
    while start >= 0:
        run = [chars[i] for i in sorted(set(index[start : start + len(target)]))]
        d = abs(run[0]["top"] - near[1]) + abs(run[0]["x0"] - near[0]) / 4
        if d < dist:
            best, dist = run, d
        start = text.find(target, start + 1)
    return best


def _shift(box: list[float], blank: list[dict[str, Any]], filled: list[dict[str, Any]]) -> float | None:
    """How far down the filled page shows the print around `box` (an earlier answer may have pushed it), None if it is not there.

    The nearest printed characters outside the box (its label first) are looked for at the same x
    on the filled page; the vertical shift most of them agree on is the field's.
    """

    def dist(c: dict[str, Any]) -> float:
        dx = max(box[0] - c["x1"], c["x0"] - box[2], 0.0)
        dy = max(box[1] - c["bottom"], c["top"] - box[3], 0.0)
        return 3 * dy + dx

    label = [c for c in blank if box[1] <= (c["top"] + c["bottom"]) / 2 <= box[3] and c["x1"] <= box[0] + 1.0]
    if len(label) >= 2:  # the label on the field's own line decides (the line below may hold a taller picture)
        around = sorted(label, key=lambda c: -c["x1"])[:6]
    else:
        around = sorted(
            (c for c in blank if not (box[0] <= (c["x0"] + c["x1"]) / 2 <= box[2] and box[1] <= (c["top"] + c["bottom"]) / 2 <= box[3])),
            key=dist,
        )[:8]
        if len(around) < 3 or dist(around[0]) > BAND_PT * 3:
            return 0.0
    moves = [[f["top"] - c["top"] for f in filled if f["text"] == c["text"] and abs(f["x0"] - c["x0"]) < 1.0] for c in around]
    agreed = []
    for dy in {d for ds in moves for d in ds if d > -1.0}:  # an earlier answer only ever pushes the print down
        n = sum(1 for ds in moves if any(abs(d - dy) < 1.0 for d in ds))
        if n >= (1.0 if len(label) >= 2 else 0.6) * len(around):
            agreed.append((-n, dy))
    if not agreed:
        return None
    # the shift most of them agree on: a line above that starts with the same words (「書面による申込」
    # over 「書面による申込方法は」) agrees with a smaller shift for some of them (seed 87805)
    dy = min(agreed)[1]
    after = [c for c in blank if box[1] <= (c["top"] + c["bottom"]) / 2 <= box[3] and c["x0"] >= box[2] - 1.0]
    for c in after:  # the value pushed the print after it along its line (印 after a name)
        if not any(f["text"] == c["text"] and abs(f["x0"] - c["x0"]) < 1.0 and abs(f["top"] - c["top"] - dy) < 1.0 for f in filled):
            return None
    return dy


def _anchored(lines: tuple[list[Any], list[Any]], page: int, box: list[float], value: str) -> tuple[list[Any], float] | None:
    """The glyphs of `value` on the filled pages and how far down the print it was typed by moved, found from the field's own print.

    The first judge looks for the print around a field at the same place, moved down on the same
    page; Word's reflow often carries it onto the next page, and like lines confuse it. Here the
    print the value was typed by is looked for from the field's page on, in reading order, at
    the same x: its label on its row with the value right after it (label and value together),
    the sentence whose baseline is the field's top (the value on one of the next lines), or a
    lone 「年　月　日」 typed over with the date (from 40 pt above the blank's place: a date typed
    over a 「年　月」 whose 「日」 had wrapped unwraps it, and the print below moves up a line,
    seed 87835). Returns the value's glyphs (on whatever page) and
    the move of its print relative to the blank's (its baseline there minus the blank's), or None.
    """
    blank, filled = lines
    x0, y0, x1, y1 = box
    target = _norm(value)
    later = [(n, ln) for n, page_lines in enumerate(filled, start=1) if n >= page for ln in page_lines]

    def run_in(ln: Any, start: int) -> list[Any]:
        return [ln.glyphs[i] for i in sorted(set(ln.index[start : start + len(target)]))]

    def after(n: int, ln: Any, row: Any) -> bool:
        return abs(ln.x0 - row.x0) < 1.0 and (n, ln.base) >= (page, row.base - 40.0)

    for row in blank[page - 1]:
        if not (y0 - 2.0 <= row.base <= y1 + 1.0):
            continue
        label = _norm(row.text_between(-1e9, x0 + 0.5))
        if label and row.base >= y0 + 1.0:  # the label and the value typed after it
            hit = next(((ln, ln.norm.find(label + target)) for n, ln in later if after(n, ln, row) and label + target in ln.norm), None)
            if hit:
                return run_in(hit[0], hit[1] + len(label)), hit[0].base - row.base
        elif abs(row.base - y0) <= 2.0 and len(row.norm) > 8:  # the sentence over an answer space
            i = next((i for i, (n, ln) in enumerate(later) if ln.norm == row.norm and after(n, ln, row)), None)
            if i is not None:
                for m, nxt in later[i + 1 : i + 4]:
                    if m == later[i][0] and target in nxt.norm:
                        return run_in(nxt, nxt.norm.index(target)), later[i][1].base - row.base
        elif set(row.norm) <= set("令和年月日") and "日" in row.norm:  # a lone date typed over
            hit = next((ln for n, ln in later if ln.norm == target and abs(ln.glyphs[-1].x1 - row.glyphs[-1].x1) < 2.0 and (n, ln.base) >= (page, row.base - 40.0)), None)
            if hit:
                return run_in(hit, 0), hit.base - row.base
    return None


def _rows(lines: list[Any]) -> list[Any]:
    """A page's lines with the cells of a table row joined into one line (a framed label's value is in the next cell)."""
    from pipeline.form.calibrate.scan import Glyph, Line

    out: list[Any] = []
    for ln in sorted(lines, key=lambda ln: (ln.base, ln.x0)):
        if out and abs(out[-1].base - ln.base) <= 0.6:
            glyphs = [Glyph(g.text, g.x0, g.x1, g.top, g.bottom, g.size, g.base) for g in out[-1].glyphs + ln.glyphs]
            out[-1] = Line(ln.page, out[-1].base, glyphs)
        else:
            out.append(ln)
    return out


def _judge_anchored(name: str, page: int, box: list[float], lines: tuple[list[Any], list[Any]], value: str) -> tuple[str, str]:
    """('inside' | 'outside' | 'pushed', what) for a value the first judge could not place, or ('', '') when its print is not found either.

    `pushed`: the value is longer than the room before the print that follows the field on its
    line (「人」 after a number, 「印」 after a name), which it pushed right: no box on the blank
    holds it without covering that print (the first judge leaves these out as moved too).
    """
    found = _anchored(lines, page, box, value)
    if found is None:
        return "", ""
    run, dy = found
    if all(box[0] - 0.5 <= g.x0 and g.x1 <= box[2] + 0.5 and box[1] + dy - 0.5 <= g.top and g.bottom <= box[3] + dy + 0.5 for g in run):
        return "inside", name
    row = [ln for ln in lines[0][page - 1] if box[1] <= ln.base <= box[3]]
    if run[-1].x1 > box[2] and any(g.x0 >= box[2] - 1.0 and g.x0 - box[2] < 12.0 for ln in row for g in ln.glyphs):
        return "pushed", f"{name} typed [{run[0].x0:.1f}..{run[-1].x1:.1f}] box [{box[0]:.1f}..{box[2]:.1f}] (print after it pushed right)"
    return "outside", f"{name} typed [{run[0].x0:.1f}..{run[-1].x1:.1f}, {run[0].top:.1f}..{run[0].bottom:.1f}] box {[round(v, 1) for v in box]} moved {dy:+.1f} (from its print)"


def _judge_near(name: str, box: list[float], blank: list[dict[str, Any]], filled: list[dict[str, Any]], value: str) -> tuple[str, str]:
    """The first judge: the print around the field found at the same place on its page, moved down by an earlier answer."""
    dy = _shift(box, blank, filled)
    if dy is None:
        return "moved", name
    box = [box[0], box[1] + dy, box[2], box[3] + dy]
    run = _find(filled, value, box)
    if run is None:
        return "moved", name  # reflowed onto another page
    if not box[1] - 15.0 <= (run[0]["top"] + run[0]["bottom"]) / 2 <= box[3] + 15.0:
        return "far", name  # found elsewhere on the page: its line was not told apart from a like one
    ok = all(box[0] - 0.5 <= c["x0"] and c["x1"] <= box[2] + 0.5 and box[1] - 0.5 <= c["top"] and c["bottom"] <= box[3] + 0.5 for c in run)
    first_line = [c for c in run if abs(c["top"] - run[0]["top"]) < 1.0]
    wrapped = len(first_line) < len(run) and all(box[0] - 0.5 <= c["x0"] and c["x1"] <= box[2] + 0.5 for c in run)
    if not ok and wrapped and all(box[1] - 0.5 <= c["top"] and c["bottom"] <= box[3] + 0.5 for c in first_line):
        return "wrapped", name  # its first line in the box, the rest wrapped under it inside the box's columns (a framed cell grows)
    if not ok:
        first, last = run[0], run[-1]
        return "outside", f"{name} typed [{first['x0']:.1f}..{last['x1']:.1f}, {first['top']:.1f}..{first['bottom']:.1f}] box {[round(v, 1) for v in box]}"
    return "inside", name


def check_fill(layout: dict[str, Any], blank_pdf: Path, filled_pdf: Path, values: dict[str, str]) -> dict[str, list[str]]:
    """Each typed value: inside its field's box, outside it, wrapped, pushed, moved (its print not found), far (not told apart), or lost (not placed).

    A value the first judge leaves moved or far is judged again from its own print (_anchored);
    `by_print` lists those so judged.
    """
    from pipeline.form.calibrate.scan import scan_pdf

    blank, filled = _chars(blank_pdf), _chars(filled_pdf)
    lines = ([_rows(s.lines) for s in scan_pdf(blank_pdf)], [_rows(s.lines) for s in scan_pdf(filled_pdf)])
    fields = {f["name"]: (p["number"], f) for p in layout["pages"] for f in p["fields"]}
    out: dict[str, list[str]] = {"inside": [], "outside": [], "wrapped": [], "pushed": [], "moved": [], "far": [], "lost": [], "by_print": []}
    for name, value in sorted(values.items()):
        if name not in fields or fields[name][1].get("located") is False:
            out["lost"].append(name)
            continue
        page, f = fields[name]
        verdict, what = _judge_near(name, f["bbox"], blank[page - 1], filled[page - 1], value) if page <= len(filled) else ("moved", name)
        if verdict in ("moved", "far"):
            again, what_again = _judge_anchored(name, page, f["bbox"], lines, value)
            if again:
                verdict, what = again, what_again
                out["by_print"].append(name)
        out[verdict].append(what)
    return out


_BOX_CHARS = "□☐■☑"


def _box_tokens(pdf: Path) -> list[tuple[int, dict[str, Any], str]]:
    """Every box glyph of the PDF in reading order: (page, its char, the text right of it on its line, 12 characters)."""
    out = []
    for n, chars in enumerate(_chars(pdf), start=1):
        for c in sorted((c for c in chars if c["text"] in _BOX_CHARS), key=lambda c: (round(c["top"]), c["x0"])):
            after = sorted((d for d in chars if abs(d["top"] - c["top"]) < 2.5 and d["x0"] >= c["x1"] - 0.5 and d["text"] not in _BOX_CHARS), key=lambda d: d["x0"])
            out.append((n, c, _norm("".join(d["text"] for d in after))[:12]))
    return out


def check_boxes(layout: dict[str, Any], blank_pdf: Path, filled_pdf: Path, states: dict[tuple[str, str], bool]) -> dict[str, list[str]]:
    """Each calibrated □ box: does the filled printing mark the box at its place exactly when the applicant meant its option?

    The blank's box glyphs and the filled one's (□ turned ■ or ☑) are paired in reading order
    by the text beside them (reflow moves them, never reorders them); a box placed on the glyph of
    another option shows as `wrong` wherever the two options' states differ. `unpaired`: the box
    is on no box glyph, or its glyph's pair was not found.
    """
    blank, filled = _box_tokens(blank_pdf), _box_tokens(filled_pdf)
    pair: dict[int, bool] = {}
    j = 0
    for i, (_, _, ctx) in enumerate(blank):
        k = next((k for k in range(j, min(j + 6, len(filled))) if filled[k][2] == ctx), None)
        if k is not None:
            pair[i], j = filled[k][1]["text"] in "■☑", k + 1
    out: dict[str, list[str]] = {"right": [], "wrong": [], "unpaired": []}
    for page in layout["pages"]:
        for b in page["boxes"]:
            if b.get("located") is False or b.get("shape") == "bracket" or (b["owner"], b["option"]) not in states:
                continue
            cx, cy = (b["bbox"][0] + b["bbox"][2]) / 2, (b["bbox"][1] + b["bbox"][3]) / 2
            i = next((i for i, (n, c, _) in enumerate(blank) if n == page["number"] and c["x0"] <= cx <= c["x1"] and c["top"] <= cy <= c["bottom"]), None)
            name = f"{b['owner']}/{b['option']}"
            if i is None or i not in pair:
                out["unpaired"].append(name)
            elif pair[i] != states[(b["owner"], b["option"])]:
                out["wrong"].append(f"{name}: {'marked' if pair[i] else 'empty'} at its place, meant {'marked' if not pair[i] else 'empty'}")
            else:
                out["right"].append(name)
    return out


def fill(style: Any, seed: int, work: Path) -> tuple[Path, dict[str, str], dict[tuple[str, str], bool]]:
    """The printing filled in Word (samples/independent/fill_word) with seed's plan: the PDF, the values typed and every box's state."""
    from samples.independent import fill_word, itemsdata, seedform

    pl = plan_for(seed)
    _, pdf, _ = fill_word.fill_in_word(seedform.parse(), style, pl, random.Random(seed))
    target = work / "independent" / str(seed) / "filled.pdf"
    target.write_bytes(pdf)
    return target, typed_values(pl), pl.box_states(itemsdata.load())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=85000)
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench_calibrate"))
    ap.add_argument("--own", action="store_true", help="also samples/printings' printings of the same seeds")
    ap.add_argument("--no-independent", action="store_true")
    ap.add_argument("--no-fill", action="store_true", help="count placed boxes and fields only")
    ap.add_argument("--json", type=Path)
    ap.add_argument("-v", "--verbose", action="store_true", help="list every unplaced entry and every value outside its box")
    a = ap.parse_args(argv)
    seeds = list(range(a.seed, a.seed + a.n))
    if any(80000 <= s <= 80999 for s in seeds):
        ap.error("seeds 80000-80999 are the independent set's held-out seeds")
    from pipeline.form.calibrate import learn_layout
    from pipeline.form.definition import load_form

    form = load_form(REPO / "forms" / "renewal")
    t0 = time.monotonic()
    rows: list[dict[str, Any]] = []
    printings: list[tuple[str, int, Path, Any]] = []
    if not a.no_independent:
        printings += [("independent", s, pdf, st) for s, (st, pdf) in independent_printings(a.work, seeds).items()]
    if a.own:
        printings += [("own", s, pdf, None) for s, pdf in own_printings(a.work, seeds).items()]
    totals: Counter[str] = Counter()
    for kind, s, pdf, st in printings:
        layout, report = learn_layout(pdf, form, f"{kind}{s}")
        row: dict[str, Any] = {"kind": kind, "seed": s, "boxes": report.boxes, "fields": report.fields, "unplaced": list(report.unplaced)}
        totals["printings"] += 1
        totals["placed"] += report.ok
        if st is not None and not a.no_fill:
            filled, values, states = fill(st, s, a.work)
            row["fill"] = check_fill(layout, pdf, filled, values)
            row["boxes_marked"] = check_boxes(layout, pdf, filled, states)
            for k, v in row["fill"].items():
                totals[k] += len(v)
            for k, v in row["boxes_marked"].items():
                totals["box_" + k] += len(v)
        rows.append(row)
        fill_part = " ".join(f"{k} {len(v)}" for k, v in row.get("fill", {}).items())
        if "boxes_marked" in row:
            fill_part += "; boxes " + " ".join(f"{k} {len(v)}" for k, v in row["boxes_marked"].items())
        print(f"{kind:11s} {s}: {'placed' if report.ok else 'UNPLACED ' + str(len(report.unplaced))}  {fill_part}", flush=True)
        if a.verbose:
            for u in report.unplaced:
                print(f"    not placed: {u}")
            for w in row.get("fill", {}).get("outside", []):
                print(f"    outside: {w}")
            for w in row.get("fill", {}).get("pushed", []):
                print(f"    pushed: {w}")
            for w in row.get("boxes_marked", {}).get("wrong", []) + row.get("boxes_marked", {}).get("unpaired", []):
                print(f"    box: {w}")
    checked = totals["inside"] + totals["outside"]
    print(f"\nprintings fully placed: {totals['placed']}/{totals['printings']}")
    if checked:
        print(
            f"typed values inside their field: {totals['inside']}/{checked} ({100 * totals['inside'] / checked:.1f} %);"
            f" of them judged from their own print (reflowed or beside a like line): {totals['by_print']};"
            f" wrapped under their box's first line (not judged): {totals['wrapped']};"
            f" longer than the room before the print after them, pushed right (not judged): {totals['pushed']};"
            f" moved by reflow (not judged): {totals['moved']}; found away from their line (not judged): {totals['far']};"
            f" in unplaced fields: {totals['lost']}"
        )
    if totals["box_right"] + totals["box_wrong"]:
        print(
            f"boxes marked in Word exactly where the applicant meant: {totals['box_right']}/{totals['box_right'] + totals['box_wrong']};"
            f" boxes not paired with a glyph of the filled printing: {totals['box_unpaired']}"
        )
    print(f"{time.monotonic() - t0:.0f} s")
    if a.json:
        a.json.write_text(json.dumps({"totals": dict(totals), "rows": rows}, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
