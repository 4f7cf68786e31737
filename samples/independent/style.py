"""How one printing of the questionnaire looks: fonts, sizes, margins, blanks, dates, page breaks."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class PrintStyle:
    name: str
    body_font: str  # IPAexMincho | IPAexGothic
    heading_font: str
    size_pt: float  # 9-11.5
    margins_mm: tuple[float, float, float, float]  # top, right, bottom, left
    line_spacing: float
    blank_style: str  # underline | frame | colon | plain
    colon: bool  # labels printed with 「：」
    date_style: str  # 「年　月　日」 | 「令和　年　月　日」 | 「　　年　　月　　日」
    below_lines: int  # answer lines under a sentence-type blank
    sign_frame: bool  # the signature place is a framed cell
    breaks_before: tuple[str, ...] = field(default=())  # section ids starting on a new page
    id_bold: bool = True

    def as_dict(self) -> dict:
        return asdict(self)


DATE_STYLES = ("年　月　日", "令和　　年　　月　　日", "　　年　　月　　日", "令和　年　月　日")


def random_style(rng: random.Random, name: str) -> PrintStyle:
    body = rng.choice(["IPAexMincho", "IPAexGothic"])
    return PrintStyle(
        name=name,
        body_font=body,
        heading_font=rng.choice(["IPAexGothic", body]),
        size_pt=rng.choice([9.0, 9.5, 10.0, 10.5, 11.0, 11.5]),
        margins_mm=(rng.uniform(12, 30), rng.uniform(12, 25), rng.uniform(12, 25), rng.uniform(15, 30)),
        line_spacing=rng.choice([1.0, 1.0, 1.15, 1.3, 1.5]),
        blank_style=rng.choice(["underline", "frame", "colon", "plain"]),
        colon=rng.random() < 0.7,
        date_style=rng.choice(DATE_STYLES),
        below_lines=rng.randint(2, 4),
        sign_frame=rng.random() < 0.4,
        breaks_before=tuple(s for s in "1234567" if rng.random() < 0.35),
        id_bold=rng.random() < 0.7,
    )
