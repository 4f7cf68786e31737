"""Attachments as applicants make them: ordinary office documents of 1-4 pages with the item id
typed in the header at the top right, sometimes scanned, sometimes labelled by hand."""

from __future__ import annotations

import random

from PIL import Image

from samples.independent import docbuild, mnist, scan
from samples.independent.plan import AttachmentPlan

LABEL_STYLES = ("plain", "添付資料", "資料", "項目番号", "別添", "fullwidth", "bracket", "box")
FW = str.maketrans("0123456789-", "０１２３４５６７８９－")


def label_text(labels: list[str], style: str, rng: random.Random) -> str:
    sep = rng.choice(["、", " / ", " ", "，", "／"]) if len(labels) > 1 else ""
    ids = sep.join(labels)
    if style == "fullwidth":
        return ids.translate(FW)
    if style == "bracket":
        return f"【{ids}】"
    if style in ("添付資料", "別添"):
        return f"{style} {ids}"
    if style == "資料":
        return f"資料{ids}"
    if style == "項目番号":
        return f"項目番号：{ids}"
    return ids


POLICY = [
    "第1条（目的）本規程は、当社の情報資産を適切に保護するための基本方針を定める。",
    "第2条（適用範囲）本規程は、当社の役員及び従業員並びに委託先に適用する。",
    "第3条（組織と体制）情報セキュリティ責任者を置き、情報セキュリティ委員会を設置する。",
    "第4条（重要情報）顧客情報その他の重要情報は、アクセス権限を限定して管理する。",
    "第5条（評価と見直し）本規程は年1回以上評価し、必要に応じて見直す。",
    "第6条（教育）全従業員に対し、年1回以上の情報セキュリティ教育を実施する。",
    "第7条（違反に対する対応）本規程に違反した者は、就業規則に基づき処分する。",
    "第8条（障害時の連絡）障害発生時は、運用責任者が直ちに関係部署へ連絡する。",
]


def _content(a: AttachmentPlan, company: str, rng: random.Random) -> list[tuple[str, dict]]:
    paras: list[tuple[str, dict]] = []
    for page in range(a.pages):
        if page:
            paras.append(("\f", {}))
        if a.content == "screenshot":
            paras.append((f"https://www.example.jp/{rng.choice(['support', 'terms', 'privacy', 'news'])}/", {"shade": "DDDDDD", "size": 9}))
            paras.append(("ホーム ｜ サービス ｜ サポート ｜ 会社概要 ｜ お問い合わせ", {"shade": "335599", "size": 10}))
            paras.append((rng.choice(["障害・メンテナンス情報", "会員規約", "個人情報保護方針", "セキュリティ情報"]), {"size": 16, "bold": True}))
            for _ in range(rng.randint(4, 9)):
                paras.append((f"{rng.randint(2024, 2025)}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日　" + rng.choice(POLICY)[4:], {"size": 10}))
        elif a.content == "table":
            paras.append((rng.choice(["連絡体制表", "監査実施記録", "対応履歴一覧", "機器一覧"]), {"size": 15, "bold": True, "align": "center"}))
            rows = ["|No.|項目|担当|備考|"] + [f"|{i + 1}|{rng.choice(['DNS', 'メール', 'Web', '認証', 'ルータ'])}サーバ|{rng.choice(['運用課', '技術課', '総務課'])}|{rng.choice(['済', '対応中', '－'])}|" for i in range(rng.randint(5, 14))]
            paras.append(("\n".join(rows), {}))
        else:
            if page == 0:
                paras.append((f"{company}　" + rng.choice(["情報セキュリティポリシー", "障害対応マニュアル", "個人情報保護規程", "監査報告書"]), {"size": 16, "bold": True, "align": "center"}))
            for _ in range(rng.randint(6, 14)):
                paras.append((rng.choice(POLICY), {"size": rng.choice([10, 10.5, 11])}))
    return paras


def make_attachment(a: AttachmentPlan, company: str, rng: random.Random) -> tuple[bytes, dict]:
    """The DOCX of one attachment (typed label in its header unless handwritten) and its label truth."""
    a.label_style = rng.choice(LABEL_STYLES)
    text = label_text(a.labels, a.label_style, rng)
    size = rng.choice([9, 10, 10.5, 11, 12, 14, 16, 18, 20])
    header = None if a.handwritten else [(text, {"size": size, "box": a.label_style == "box", "bold": rng.random() < 0.4,
                                                 "font": rng.choice(["IPAexGothic", "IPAexMincho"])})]
    a.first_page_only = a.pages > 1 and rng.random() < 0.4
    docx = docbuild.simple_document(_content(a, company, rng), header, a.first_page_only, rng)
    truth = {"labels": a.labels, "label_text": None if a.handwritten else text, "label_style": a.label_style,
             "label_size_pt": None if a.handwritten else size, "first_page_only": a.first_page_only,
             "handwritten": a.handwritten, "content": a.content}
    return docx, truth


def handwrite_label(pdf: bytes, labels: list[str], settings: scan.ScanSettings, rng: random.Random) -> tuple[list[Image.Image], dict]:
    """Print the unlabelled document and write the label by hand in the top-right corner of page 1."""
    pages = scan.rasterise(pdf, settings.dpi)
    k = settings.dpi / 72
    label = " ".join(labels)
    glyph = mnist.label_image(label, int(rng.uniform(14, 24) * k), rng)
    first = pages[0]
    x = int(first.width - glyph.width - rng.uniform(20, 70) * k)
    y = int(rng.uniform(14, 50) * k)
    ink = Image.new("RGB", glyph.size, (25, 25, 70))
    first.paste(ink, (x, y), glyph)
    return pages, {"label_text": label, "glyph_sources": mnist.label_sources(label), "bbox_pt": [x / k, y / k, (x + glyph.width) / k, (y + glyph.height) / k]}


