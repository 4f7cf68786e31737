"""The frozen records every stage passes to the next; no behaviour beyond derived properties.

Coordinates: every bbox is (x0, y0, x1, y1) in PDF points, origin at the page's top left,
exactly as result.json spells it. Page numbers are 1-based within their source file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

BBox = tuple[float, float, float, float]

MarkState = Literal["checked", "empty", "uncertain"]
AnswerValue = Literal["yes", "no", "blank", "conflict", "uncertain"]
FieldStatus = Literal["read", "uncertain", "handwritten", "empty", "missing", "not_located"]
EvidenceKind = Literal["document", "signature", "seal", "url_path", "text"]
EvidenceStatus = Literal["present", "missing", "not_required", "uncertain"]
Severity = Literal["error", "warning", "info"]
Decision = Literal["pass", "fail", "needs_review"]
SourceKind = Literal["scanned", "born_digital", "acroform", "image", "mixed", "unreadable"]
LabelStatus = Literal["read", "uncertain", "missing"]
FieldKind = Literal["text", "url", "signature", "seal", "date"]


@dataclass(frozen=True, slots=True)
class PageRef:
    """One page of one input file: `file` relative to the submission's inbox entry."""

    file: str
    page: int


# --- what the form definition says ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Option:
    """One markable option of an item or declaration (a box, or a bracket of a choice)."""

    key: str
    text: str
    points: int | None = None  # for choices (3-1-7, 7-0-2): the points this choice earns
    role: Literal["answer", "choice", "main", "sub"] = "answer"


@dataclass(frozen=True, slots=True)
class Blank:
    """A named free-text blank of an item (部署・役職, 対策方法, …)."""

    name: str
    label: str
    required: bool = True  # needed as evidence when the item is answered yes


@dataclass(frozen=True, slots=True)
class Item:
    """One question of the answer sheet, as forms/<name>/items.yaml defines it."""

    id: str
    section: str
    group: str
    title: str
    statement: str  # the affirmative statement printed beside the yes box
    negative: str | None  # the negative statement beside the no box, if the form has one
    required: bool
    points_max: int
    scoring: Literal["required", "fixed", "choice", "reviewer"]
    options: tuple[Option, ...]
    evidence: tuple[str, ...]  # "doc", "url", "doc|url", "sign", "seal", "text"
    blanks: tuple[Blank, ...] = ()
    instructions: str = ""  # the 提出して下さい line printed under the statement
    signer: str = "担当者"  # who signs: 担当者 or 個人情報保護管理者
    scale_note: str | None = None  # e.g. the 7-0-2 points scale, which is the form's, not the seed's
    # printed texts only (the printing and calibrate read them; the rules never do)
    bullets: tuple[str, ...] = ()  # the ＊ lines under the statement
    report: str = ""  # the 「当社では、…報告します。」 paragraph under the statement
    choice_prompt: str = ""  # the sentence around the choice brackets; 「…」 marks where they go
    sign_note: str = ""  # the note under the signature row ("" means the printing's default)
    url_path: bool = False  # the item asks for the path from the top page to a URL (トップページ ↓ 該当 URL)

    @property
    def choices(self) -> tuple[Option, ...]:
        return tuple(o for o in self.options if o.role == "choice")

    @property
    def needs_document(self) -> bool:
        return any(e in ("doc", "doc|url") for e in self.evidence)


@dataclass(frozen=True, slots=True)
class Declaration:
    """A preliminary question (上位プロバイダー, 障害, 個人情報漏洩) with its main and sub options."""

    id: str
    title: str
    options: tuple[Option, ...]
    requires_document: tuple[str, ...]  # main option keys that raise declaration_requires_document
    notes: tuple[str, ...] = ()  # the ※ remarks printed under its options


@dataclass(frozen=True, slots=True)
class CoverField:
    """A labelled place on the cover where the applicant writes (サービス名, 会社名, 住所, …)."""

    key: str
    label: str
    prefix: str = ""  # printed where the writing starts, e.g. 〒 ("" means the cover's default, if any)
    suffix: str = ""  # printed after a short line, e.g. 「人（…概数で結構です）」
    sealed: bool = False  # the company seal sits beside it
    script: Literal["any", "latin"] = "any"  # latin: written in Latin letters and digits only (TEL, e-mail)
    pattern: str | None = None  # the name of the items file's field pattern a value must fit (telephone, …)


@dataclass(frozen=True, slots=True)
class CoverTexts:
    """The cover sheet's fixed texts (申請書): addressee, intro, the defaults of its fields, the council's box."""

    title: str = ""  # the application the intro names (items.yaml's; form.yaml's title may differ)
    intro: str = ""
    addressee: tuple[str, ...] = ()
    address_prefix: str = ""  # printed before the address line (〒)
    user_count_note: str = ""  # printed after the user-count line
    office_header: str = ""  # the 協議会処理欄 note
    office_cells: tuple[str, ...] = ()  # the 協議会処理欄 cells: the licence number first, then the dated cells


@dataclass(frozen=True, slots=True)
class ContactField:
    """One labelled line of a contact block (所属・役職, 氏名, TEL, …)."""

    key: str
    label: str
    prefix: str = ""  # printed where the writing starts, e.g. 〒
    note: str = ""  # a small remark printed under the line
    sealed: bool = False  # a 印 sits beside it
    script: Literal["any", "latin"] = "any"
    pattern: str | None = None  # the name of the items file's field pattern a value must fit


@dataclass(frozen=True, slots=True)
class Contact:
    """A block after the closing line naming a person to reach (【回答者】, 【連絡担当者】, …)."""

    id: str  # the owner of its fields: respondent, contact, …
    title: str = ""
    intro: str = ""  # the sentence under the title, if any
    date_line: str = ""  # non-empty: the closing line's date belongs to this block
    fields: tuple[ContactField, ...] = ()


@dataclass(frozen=True, slots=True)
class FormTexts:
    """The form's fixed texts that no item owns: the cover, the answer sheet's note, the closing line, the contacts."""

    cover: CoverTexts = field(default_factory=CoverTexts)
    answer_sheet_note: str = ""  # the line under the answer sheet's title (its □ is an example)
    closing_text: str = ""  # 「以上の通り回答いたします。」
    contacts: tuple[Contact, ...] = ()


@dataclass(frozen=True, slots=True)
class PassRule:
    required_total: int
    points_max: int
    threshold: int
    fail_at_zero: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BoxLayout:
    """A markable place on a form page: a □ box, or a bracket [ ] of a choice."""

    owner: str  # item id or declaration id
    option: str
    bbox: BBox
    shape: Literal["box", "bracket"] = "box"
    located: bool = True  # False: calibrate could not place it; bbox is the region where it was expected


@dataclass(frozen=True, slots=True)
class FieldLayout:
    """A place where the applicant writes: a text blank, URL line, signature or seal spot."""

    name: str  # e.g. "applicant.company_name", "1-1-3.dept_title", "1-1-3.signature"
    owner: str | None  # item id, "applicant", "respondent", ... or None
    kind: FieldKind
    bbox: BBox
    script: Literal["any", "latin"] = "any"  # latin: written in Latin letters and digits only (TEL, e-mail)
    located: bool = True  # False: calibrate could not place it; bbox is the region where it was expected
    pattern: FieldPattern | None = None  # what a value read here must look like (items.yaml field_patterns)


@dataclass(frozen=True, slots=True)
class FieldPattern:
    """The shape a field's value must have to count as read, from items.yaml's `field_patterns`.

    `regex` must match the whole value after NFKC with white space collapsed to one space;
    `label` names the kind for the reviewer (電話番号, 日付, …).
    """

    name: str
    regex: str
    label: str


@dataclass(frozen=True, slots=True)
class PageLayout:
    number: int  # 1-based page of the form
    role: Literal["cover", "answer"]
    width_pt: float
    height_pt: float
    code: str | None  # the page code printed (QR and text) by our printing, None for others
    anchors: tuple[BBox, ...]  # registration marks, if printed
    boxes: tuple[BoxLayout, ...]
    fields: tuple[FieldLayout, ...]
    item_ids: tuple[str, ...]  # items whose statements print on this page (for identification)
    unlocated: tuple[BoxLayout | FieldLayout, ...] = ()  # what calibrate could not place (located=False), never read


@dataclass(frozen=True, slots=True)
class FormDef:
    name: str  # folder name, e.g. "renewal"
    title: str
    kind: Literal["renewal", "new"]
    rule: PassRule
    items: tuple[Item, ...]
    declarations: tuple[Declaration, ...]
    cover_fields: tuple[CoverField, ...]
    pages: tuple[PageLayout, ...]
    fingerprint: str  # sha256 over the form's files, for incremental runs
    folder: str = ""  # forms/<name>/, where blank.pdf lives
    sections: tuple[tuple[str, str], ...] = ()  # (section id, title), e.g. ("1", "セキュリティポリシーの…")
    texts: FormTexts = field(default_factory=FormTexts)  # what the printing shows besides items and declarations

    @property
    def blank_pdf(self) -> str:
        return f"{self.folder}/blank.pdf"

    def item(self, item_id: str) -> Item:
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(item_id)

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(it.id for it in self.items)


# --- what was read ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MarkReading:
    """One box as read: its state and the detector's own measure, kept for the reviewer."""

    owner: str
    option: str
    state: MarkState
    score: float | None
    page: PageRef | None
    bbox: BBox | None
    source: Literal["acroform", "text_layer", "scan", "override"] = "scan"
    note: str | None = None  # why it is uncertain, in words

    @property
    def placed(self) -> bool:
        """False for a placeholder: a box its reader could not find on the page (uncertain, with no measure)."""
        return not (self.state == "uncertain" and self.score is None)


@dataclass(frozen=True, slots=True)
class FieldReading:
    """One blank, URL line, signature or seal place as read."""

    name: str
    owner: str | None
    kind: str
    value: str | None
    status: Literal["read", "uncertain", "handwritten", "empty", "missing", "not_located"]
    confidence: float | None
    page: PageRef | None
    bbox: BBox | None
    crop: str | None = None  # path of the saved crop, relative to the outbox folder
    note: str | None = None  # why a value is uncertain (Japanese, for the reviewer), e.g. it does not fit its pattern

    @property
    def placed(self) -> bool:
        """False for a placeholder: a place its reader could not find on the page (not_located)."""
        return self.status != "not_located"


@dataclass(frozen=True, slots=True)
class Attachment:
    id: str  # att-01, att-02, …
    labels: tuple[str, ...]
    label_status: LabelStatus
    label_text: str | None
    pages: tuple[PageRef, ...]
    unknown_labels: tuple[str, ...] = ()  # read, but not an item that takes a document
    candidates: tuple[str, ...] = ()  # for an uncertain read: the ids it could be
    crop: str | None = None


@dataclass(frozen=True, slots=True)
class Flag:
    code: str
    severity: Severity
    item: str | None
    message: str
    pages: tuple[PageRef, ...] = ()


@dataclass(frozen=True, slots=True)
class SourceFile:
    file: str  # relative to the submission's inbox entry
    sha256: str
    pages: int
    kind: SourceKind
    status: Literal["ok", "error"]
    error: str | None = None
    notes: tuple[str, ...] = ()  # how it was read, for the reviewer (Japanese): repaired, rewritten


@dataclass(frozen=True, slots=True)
class ItemAnswer:
    """An item's or declaration's answer, derived from its marks (and any override)."""

    owner: str
    answer: AnswerValue
    choice: str | None
    marks: tuple[MarkReading, ...]
    overridden: bool = False


@dataclass(frozen=True, slots=True)
class Evidence:
    kind: EvidenceKind
    status: EvidenceStatus
    attachments: tuple[str, ...] = ()
    page: int | None = None
    bbox: BBox | None = None
    text: str | None = None
    file: str | None = None  # the page's file, for the dossier
    crop: str | None = None


@dataclass(frozen=True, slots=True)
class Score:
    required_met: int
    required_total: int
    points: int
    points_max: int
    threshold: int
    decision: Decision
    reasons: tuple[str, ...]
    points_low: int = 0  # the range while items are unresolved
    points_high: int = 0
