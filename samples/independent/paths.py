"""Where the inputs of the independent set live (seed text, item data, fonts, the project's printing)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SEED_DIR = (REPO / ".." / "shared" / "seed").resolve()
ITEMS_YAML = REPO / "forms" / "renewal" / "items.yaml"
FORM_YAML = REPO / "forms" / "renewal" / "form.yaml"
PROJECT_BLANK = REPO / "forms" / "renewal" / "blank.pdf"

FONT_FILES = {
    "IPAexMincho": "/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf",
    "IPAexGothic": "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
}
HAND_FONTS = [
    "/usr/share/fonts/truetype/klee/KleeOne-Regular.ttf",
    "/usr/share/fonts/truetype/klee/KleeOne-SemiBold.ttf",
    "/usr/share/fonts/truetype/kiloji/kiloji.ttf",
    "/usr/share/fonts/truetype/kiloji/kiloji_p.ttf",
]


def seed_file() -> Path:
    """The council's text of the questionnaire (the one .txt in ../shared/seed)."""
    files = sorted(SEED_DIR.glob("*.txt"))
    if not files:
        raise FileNotFoundError(f"no seed text in {SEED_DIR}")
    return files[0]
