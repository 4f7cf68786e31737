"""The form definition files agree with the council's form text and the review contract.

Everything compared here is read from the seed text (/work/shared/seed/…) and the contract's
evidence table (/work/shared/spec/README.md) at test time; no number from the questionnaire is
written into this file. The pipeline package is not imported: these are checks on the data.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SEED = SHARED / "seed" / "000_15f9b5afbecfd9a8.txt"
SPEC = SHARED / "spec" / "README.md"
RENEWAL = REPO / "forms" / "renewal"
NEW = REPO / "forms" / "new"

QUESTION_LIST_HEADING = "## 審査質問項目一覧"
ANSWER_SHEET_HEADING = "## 審査項目回答書"

# "1-1-1 (必須)", "1-1-3 (3点)", "3-1-7 (1～5点)", "7-1-1 (0～5点、但し0点の場合は不合格)"
MARKER = re.compile(r"(?P<id>\d+-\d+-\d+)\s*[(（](?P<marker>必須|(?:\d+[～~])?\d+点[^)）]*)[)）]")
RULE_SENTENCE = re.compile(
    r"必須\s*(?P<new_req>\d+)\s*項目、推奨\s*(?P<new_max>\d+)\s*点中\s*(?P<new_thr>\d+)\s*点以上"
    r"（更新審査の場合、必須\s*(?P<ren_req>\d+)\s*項目、推奨\s*(?P<ren_max>\d+)\s*点中\s*(?P<ren_thr>\d+)\s*点以上）"
)
FAIL_AT_ZERO_SENTENCE = re.compile(r"但し、(?P<ids>[\d\-\sと]+?)\s*は\s*0\s*点の場合は不合格")
ITEM_ID = re.compile(r"\d+-\d+-\d+")
# an answer-sheet item starts a line, after an optional markdown list/heading prefix
ANSWER_ITEM_LINE = re.compile(r"^[\s\-#]*(?P<id>\d+-\d+-\d+)\s", re.MULTILINE)


@cache
def seed_text() -> str:
    if not SEED.exists():
        pytest.skip("needs ../shared/seed, which is not beside this clone")
    return SEED.read_text(encoding="utf-8")


def question_list() -> str:
    return seed_text().split(QUESTION_LIST_HEADING, 1)[1].split(ANSWER_SHEET_HEADING, 1)[0]


def answer_sheet() -> str:
    return seed_text().split(ANSWER_SHEET_HEADING, 1)[1]


@cache
def seed_items() -> tuple[tuple[str, bool, int], ...]:
    """(id, required, max points) for every item of the 審査質問項目一覧, in print order."""
    out = []
    for m in MARKER.finditer(question_list()):
        marker = m.group("marker")
        if marker == "必須":
            out.append((m.group("id"), True, 0))
        else:
            # "3点" → 3; "1～5点" / "0～5点、…" → the range's upper bound
            out.append((m.group("id"), False, int(re.match(r"(?:\d+[～~])?(\d+)点", marker).group(1))))
    return tuple(out)


@cache
def seed_rule() -> dict[str, int]:
    m = RULE_SENTENCE.search(question_list())
    assert m, "the seed's 「必須 NN 項目、推奨 NNN 点中 NN 点以上（更新審査の場合、…）」 sentence was not found"
    return {k: int(v) for k, v in m.groupdict().items()}


def seed_fail_at_zero() -> list[str]:
    m = FAIL_AT_ZERO_SENTENCE.search(question_list())
    assert m, "the seed's 「但し、… は 0 点の場合は不合格」 sentence was not found"
    return ITEM_ID.findall(m.group("ids"))


@cache
def answer_sections() -> dict[str, str]:
    """Each item's part of the 審査項目回答書: from its id's line to the next item's line."""
    text = answer_sheet()
    starts = list(ANSWER_ITEM_LINE.finditer(text))
    return {m.group("id"): text[m.start() : (starts[k + 1].start() if k + 1 < len(starts) else len(text))] for k, m in enumerate(starts)}


@cache
def spec_evidence() -> dict[str, list[str]]:
    """The contract's evidence table as {item id: evidence list in items.yaml's form}."""
    rows: list[tuple[str, list[str]]] = []
    in_table = False
    if not SPEC.exists():
        pytest.skip("needs ../shared/spec, which is not beside this clone")
    for line in SPEC.read_text(encoding="utf-8").splitlines():
        if re.match(r"^\|\s*evidence\s*\|\s*items\s*\|", line):
            in_table = True
            continue
        if not in_table:
            continue
        if not line.startswith("|"):
            break
        if re.match(r"^\|[\s\-|]+\|$", line):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        rows.append((cells[0].replace("\\|", "|"), ITEM_ID.findall(cells[1])))
    assert rows, "the evidence table was not found in the spec"
    evidence: dict[str, list[str]] = {}
    extras: list[tuple[str, list[str]]] = []
    for label, ids in rows:
        if label.startswith("text"):  # "text (besides the above)": added to the item's rule
            extras.append(("text", ids))
            continue
        words = [w.strip() for w in label.split("+")]  # "sign + seal" → sign, seal; "doc|url" stays one word
        for item_id in ids:
            assert item_id not in evidence, f"{item_id} is in two rows of the spec's evidence table"
            evidence[item_id] = list(words)
    for word, ids in extras:
        for item_id in ids:
            assert item_id in evidence, f"{item_id} is only in the spec's '{word}' row"
            evidence[item_id].append(word)
    return evidence


def load(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def items_for(form_dir: Path) -> list[dict[str, Any]]:
    form = load(form_dir / "form.yaml")
    return list(load((form_dir / form.get("items", "items.yaml")).resolve())["items"])


def effective(form_dir: Path) -> list[tuple[str, bool, int]]:
    """(id, required, points) per item after the form's overrides, as the loader applies them."""
    overrides = load(form_dir / "form.yaml").get("overrides") or {}
    out = []
    for item in items_for(form_dir):
        patch = overrides.get(str(item["id"])) or {}
        required = bool(patch.get("required", item["required"]))
        points = 0 if required else int(patch.get("points", item["points"]))
        out.append((str(item["id"]), required, points))
    return out


def test_seed_parses() -> None:
    """the seed's question list, answer sheet and rule sentence are found where the test looks."""
    ids = [i for i, _, _ in seed_items()]
    assert ids, "no item markers found in the 審査質問項目一覧"
    assert len(ids) == len(set(ids)), "an item id is printed twice in the 審査質問項目一覧"
    assert list(answer_sections()) == ids, "the answer sheet does not list the question list's items in the same order"
    assert seed_rule()["ren_req"] == sum(1 for _, req, _ in seed_items() if req)
    assert seed_rule()["ren_max"] == sum(p for _, _, p in seed_items())


def test_items_match_seed_ids_flags_and_points() -> None:
    """items.yaml lists the seed's items in the seed's order, with its 必須 flags and max points."""
    items = items_for(RENEWAL)
    assert [str(it["id"]) for it in items] == [i for i, _, _ in seed_items()]
    for item, (item_id, required, points) in zip(items, seed_items()):
        assert item["required"] is required, f"{item_id}: required is {item['required']}, the seed says {required}"
        assert item["points"] == points, f"{item_id}: points {item['points']}, the seed's maximum is {points}"
        assert (item["scoring"] == "required") is required, f"{item_id}: scoring {item['scoring']} vs required {required}"


def test_renewal_rule_matches_seed_and_items() -> None:
    """the renewal pass rule equals the seed's 更新審査 numbers and the items' own totals."""
    rule = load(RENEWAL / "form.yaml")["rule"]
    seed = seed_rule()
    items = effective(RENEWAL)
    assert rule["required_total"] == seed["ren_req"] == sum(1 for _, req, _ in items if req)
    assert rule["points_max"] == seed["ren_max"] == sum(p for _, _, p in items)
    assert rule["threshold"] == seed["ren_thr"]
    assert [str(i) for i in rule["fail_at_zero"]] == seed_fail_at_zero()


def test_new_rule_matches_seed_after_overrides() -> None:
    """the new-application form carries the seed's new numbers and its overrides reach them."""
    form = load(NEW / "form.yaml")
    rule = form["rule"]
    seed = seed_rule()
    assert form["kind"] == "new"
    assert (rule["required_total"], rule["points_max"], rule["threshold"]) == (seed["new_req"], seed["new_max"], seed["new_thr"])
    assert [str(i) for i in rule["fail_at_zero"]] == seed_fail_at_zero()
    items = effective(NEW)
    assert sum(1 for _, req, _ in items if req) == seed["new_req"]
    assert sum(p for _, _, p in items) == seed["new_max"]
    ids = {i for i, _, _ in items}
    assert set(form.get("overrides") or {}) <= ids, "an override names an unknown item"


def test_evidence_matches_spec_table() -> None:
    """every item's evidence is exactly the spec table's row(s) for it, and the table covers every item."""
    table = spec_evidence()
    items = {str(it["id"]): it for it in items_for(RENEWAL)}
    assert set(table) == set(items)
    for item_id, expected in table.items():
        assert list(items[item_id]["evidence"]) == expected, f"{item_id}: evidence {items[item_id]['evidence']}, the spec says {expected}"


def test_url_path_matches_answer_sheet() -> None:
    """url_path is true exactly for the items whose answer-sheet part prints the トップページ → 該当 URL lines."""
    sections = answer_sections()
    for item in items_for(RENEWAL):
        item_id = str(item["id"])
        printed = "トップページ" in sections[item_id]
        assert bool(item.get("url_path")) is printed, f"{item_id}: url_path {item.get('url_path')}, the answer sheet {'prints' if printed else 'does not print'} トップページ"
