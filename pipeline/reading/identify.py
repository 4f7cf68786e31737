"""Which form page is this born-digital page? By its printed page code, else by the items it carries."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from pipeline.model.records import FormDef, PageLayout

PAGE_CODE = re.compile(r"ISPMARK[|\-_ ]+([A-Za-z0-9_]+)[|\-_ ]+P(\d{1,3})")
ITEM_ID = re.compile(r"(?<![\d-])([1-7]-\d-\d)(?![\d-])")
# Share of a layout page's own item ids (and cover labels) that must appear for a match.
MIN_ITEM_SHARE = 0.6


@dataclass(frozen=True, slots=True)
class PageMatch:
    layout: PageLayout
    score: float
    by: str  # "code" or "items" or "cover"


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def identify_text_page(text: str, form: FormDef) -> PageMatch | None:
    """The layout page this page's text belongs to, or None when it is not a page of the form.

    A page code names form and page outright; a code for another form means the page is not
    ours. Without a code (another printing), the page whose item ids best cover the ids found
    wins, if it holds most of them.
    """
    text = normalise(text)
    code = PAGE_CODE.search(text)
    if code:
        form_name, number = code.group(1), int(code.group(2))
        for page in form.pages:
            if page.code and PAGE_CODE.search(page.code) and page.number == number and form_name.lower() in page.code.lower():
                return PageMatch(page, 1.0, "code")
        return None
    found = set(ITEM_ID.findall(text))
    best: PageMatch | None = None
    for page in form.pages:
        if page.role == "cover":
            score = _cover_score(text, form)
        elif page.item_ids:
            own = set(page.item_ids)
            score = len(own & found) / len(own)
            # Ids of items printed on other pages count against it (a page of the question list).
            stray = len(found - own - _neighbour_ids(form, page))
            score -= 0.5 * stray / max(len(own), 1)
        else:
            continue
        if best is None or score > best.score:
            best = PageMatch(page, score, "cover" if page.role == "cover" else "items")
    return best if best and best.score >= MIN_ITEM_SHARE else None


def _neighbour_ids(form: FormDef, page: PageLayout) -> set[str]:
    # Instructions mention their own item id and sometimes the next item's, which may sit on the next page.
    ids: set[str] = set()
    for other in form.pages:
        if abs(other.number - page.number) == 1:
            ids |= set(other.item_ids)
    return ids


def _cover_score(text: str, form: FormDef) -> float:
    labels = [f.label for f in form.cover_fields]
    if not labels:
        return 0.0
    hits = sum(1 for label in labels if normalise(label) in text)
    title_bonus = 0.2 if "申請書" in text and "審査項目回答書" not in text[:200] else -0.5
    return hits / len(labels) + title_bonus if "審査項目回答書" not in text else 0.0
