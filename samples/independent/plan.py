"""What one applicant answers: marks, blanks, URL paths, signatures and which documents they attach.

A plan is the truth before any rendering; every filling way renders the same plan, so a reading
can be compared with it whatever the way.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from samples.independent import itemsdata

SURNAMES = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田"]
GIVEN = ["健一", "美咲", "大輔", "裕子", "翔太", "直樹", "恵", "拓也", "陽子", "誠"]
DEPTS = ["情報システム部 部長", "技術本部 課長", "ネットワーク運用課 主任", "総務部 部長", "カスタマーサポート部 課長"]
COMPANIES = ["株式会社ひかりネット", "みどり通信株式会社", "有限会社さくらインターネットサービス", "東都ネットワーク株式会社"]
SERVICES = ["ひかりネット光", "みどりNET", "さくらBB", "とうとネット"]
DOMAINS = ["hikari-net.example.jp", "midori.example.ne.jp", "sakura-bb.example.jp", "toto-net.example.co.jp"]
ADDRESSES = ["東京都千代田区神田1-2-3", "大阪府大阪市北区梅田2-4-6", "福岡県福岡市博多区博多駅前3-1-1", "北海道札幌市中央区北1条西5-2"]
FREE_TEXT = {
    "activity": ["全社員対象に情報セキュリティ研修を年2回実施", "新入社員研修でセキュリティ教育を実施している", "毎月セキュリティ通信を全社員へ配信"],
    "measures": ["OS、アプリケーションは常に最新の状態にしている", "WAFを導入し改ざん検知を24時間監視", "ID・パスワードは使い回さないようにしている"],
    "equipment": ["ガス系消火設備、煙感知器", "ハロン消火設備及び火災報知器", "消火器、自動火災報知設備"],
    "outage_equipment": ["UPS及び自家発電設備（72時間）", "無停電電源装置と非常用発電機", "UPS（30分）、発電機"],
    "notice_method": ["ホームページ及び電子メールで通知", "会員向けサイトへの掲載と書面送付"],
    "notice_period": ["変更の30日前まで", "実施の1か月前から"],
    "prohibited_acts": ["会員規約第12条", "約款第20条（禁止事項）"],
    "measures_for_violators": ["会員規約第13条", "約款第21条（利用停止）"],
    "written_application": ["申込書に約款を同封し、確認欄へのチェックを求めている", "約款を添付し内容確認の署名を頂いている"],
}
URL_STEPS = ["サポート → セキュリティ", "会員規約 → 約款", "お知らせ → 障害情報", "会社概要 → 個人情報保護", "お問い合わせ"]


@dataclass
class AttachmentPlan:
    labels: list[str]
    pages: int
    content: str  # policy | screenshot | table
    label_style: str = "plain"
    first_page_only: bool = False
    handwritten: bool = False
    scanned: bool = False
    in_form_file: bool = False


@dataclass
class Plan:
    answers: dict[str, str]  # item id -> yes|no|blank|conflict ; declaration id -> main option|blank
    choices: dict[str, str | None]
    decl_subs: dict[str, str | None]
    texts: dict[str, str]  # field key -> text written
    urls: dict[str, tuple[str, str, str]]
    signed: set[str]
    sealed: set[str]
    attachments: list[AttachmentPlan] = field(default_factory=list)

    def box_states(self, data: itemsdata.ItemsData) -> dict[tuple[str, str], bool]:
        """Every box's intended state (True = marked)."""
        st: dict[tuple[str, str], bool] = {}
        for d in data.declarations.values():
            for key, role, _ in d.options:
                if role == "main":
                    st[(d.id, key)] = self.answers[d.id] in (key, "conflict")
                else:
                    st[(d.id, key)] = self.decl_subs.get(d.id) == key
        for it in data.items.values():
            a = self.answers[it.id]
            st[(it.id, "yes")] = a in ("yes", "conflict")
            if it.negative:
                st[(it.id, "no")] = a in ("no", "conflict")
        return st


def _person(rng: random.Random) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}"


def make_plan(rng: random.Random, data: itemsdata.ItemsData, n_attach_max: int = 99) -> Plan:
    answers: dict[str, str] = {}
    choices: dict[str, str | None] = {}
    decl_subs: dict[str, str | None] = {}
    texts: dict[str, str] = {}
    urls: dict[str, tuple[str, str, str]] = {}
    signed: set[str] = set()
    sealed: set[str] = set()
    ci = rng.randrange(len(COMPANIES))
    domain = DOMAINS[ci]

    for d in data.declarations.values():
        mains = [k for k, role, _ in d.options if role == "main"]
        r = rng.random()
        answers[d.id] = mains[0] if r < 0.8 else (mains[1] if r < 0.95 else "blank")
        subs = [k for k, role, _ in d.options if role == "sub"]
        decl_subs[d.id] = rng.choice(subs) if subs and answers[d.id] == "occurred" else None

    for it in data.items.values():
        r = rng.random()
        if r < 0.80:
            a = "yes"
        elif r < 0.90 and it.negative:
            a = "no"
        elif r < 0.94:
            a = "blank"
        elif r < 0.96 and it.negative:
            a = "conflict"
        else:
            a = "yes"
        answers[it.id] = a
        if it.choices:
            choices[it.id] = rng.choice([k for k, _ in it.choices]) if a == "yes" else None
        if a != "yes":
            continue
        for name, _ in it.blanks:
            if rng.random() < 0.95:
                if name == "name":
                    texts[f"item.{it.id}.{name}"] = _person(rng)
                elif name == "dept_title":
                    texts[f"item.{it.id}.{name}"] = rng.choice(DEPTS)
                elif name.endswith("address"):
                    texts[f"item.{it.id}.{name}"] = rng.choice(ADDRESSES)
                else:
                    texts[f"item.{it.id}.{name}"] = rng.choice(FREE_TEXT[name])
        if it.needs_sign:
            if rng.random() < 0.96:
                signed.add(it.id)
            if rng.random() < 0.94:
                sealed.add(it.id)
        if it.url_path:
            want_url = rng.random() < (0.95 if "url" in it.evidence else 0.6)
            if want_url:
                path = rng.choice(["support/security/", "terms/", "info/maintenance/", "privacy/", "contact/"])
                urls[it.id] = (f"www.{domain}/", rng.choice(URL_STEPS), f"www.{domain}/{path}")

    cover = {
        "service_name": SERVICES[ci], "url": f"https://www.{domain}/", "company_name": COMPANIES[ci],
        "representative": f"代表取締役 {_person(rng)}", "address": rng.choice(ADDRESSES),
        "tel": f"03-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
        "fax": f"03-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
        "registration_date": f"{rng.randint(2001, 2020)}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日",
        "registration_number": f"A-{rng.randint(10, 30)}-{rng.randint(1000, 9999)}",
        "user_count": f"{rng.randint(1, 90) * 1000}",
    }
    for k, v in cover.items():
        texts[f"cover.{k}"] = v
    for cid, fields in data.contacts:
        if cid != "respondent" and rng.random() < 0.4:
            continue
        for key, _ in fields:
            if key == "address" and rng.random() < 0.6:
                continue  # 「申請書の住所と異なる場合のみ」
            v = {"company_name": COMPANIES[ci], "dept_title": rng.choice(DEPTS), "name": _person(rng),
                 "tel": cover["tel"], "fax": cover["fax"], "email": f"info@{domain}",
                 "address": rng.choice(ADDRESSES)}[key]
            texts[f"{cid}.{key}"] = v

    plan = Plan(answers, choices, decl_subs, texts, urls, signed, sealed)
    plan.attachments = _attachments(rng, data, plan)[:n_attach_max]
    return plan


def _attachments(rng: random.Random, data: itemsdata.ItemsData, plan: Plan) -> list[AttachmentPlan]:
    """Documents for the yes items that need one; a few are left out on purpose (missing_document)."""
    want: list[str] = []
    for it in data.items.values():
        if plan.answers[it.id] != "yes":
            continue
        if it.needs_doc and rng.random() < 0.88:
            want.append(it.id)
        elif it.doc_or_url and (it.id not in plan.urls or rng.random() < 0.35):
            if rng.random() < 0.9:
                want.append(it.id)
    out: list[AttachmentPlan] = []
    i = 0
    while i < len(want):
        group = [want[i]]
        # 7-1-1..7-1-3 or neighbours often come as one document with several labels
        if i + 1 < len(want) and want[i + 1][:3] == want[i][:3] and rng.random() < 0.25:
            group.append(want[i + 1])
            if i + 2 < len(want) and want[i + 2][:3] == want[i][:3] and rng.random() < 0.5:
                group.append(want[i + 2])
        i += len(group)
        out.append(AttachmentPlan(labels=group, pages=rng.choice([1, 1, 1, 2, 2, 3, 4]),
                                  content=rng.choice(["policy", "policy", "screenshot", "table"])))
    return out


def expected_missing_documents(data: itemsdata.ItemsData, plan: Plan) -> list[str]:
    """Yes items whose rule needs a document that is not attached (doc, or doc|url with no URL path)."""
    attached = {lbl for a in plan.attachments for lbl in a.labels}
    miss = []
    for it in data.items.values():
        if plan.answers[it.id] != "yes" or it.id in attached:
            continue
        if it.needs_doc or (it.doc_or_url and it.id not in plan.urls):
            miss.append(it.id)
    return miss
