"""The office writes a milestone report in the portal: its texts as a draft (``ReportDraft``),
then a preview (征求意见稿) or the final (定稿), each a new ``ReportRun``.

``save_draft`` checks everything first (lengths, picks, the version the editor was loaded with)
and writes nothing when something is wrong: the caller shows the Chinese messages with the typed
text kept. ``issue`` saves the draft and queues the run in one transaction, so a refused preview
or final leaves the stored draft as it was.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from reports.choices import ReportKind, RunStatus
from reports.documents import highlights
from reports.documents.services import NEXT_STEPS_MAX, check_request, office_labels, request_report
from reports.models import ReportDraft, ReportRun
from units.people import person_name

EDITOR_KINDS = (ReportKind.MIDTERM, ReportKind.FINAL, ReportKind.MOBILISATION)
TEXT_FIELDS = ("overall", "problems", "next_steps")
ISSUE_FIELDS = {"addressee": 100, "document_number": 50}


class DraftRefused(Exception):
    """{field: Chinese message} of why a save, preview or final was refused (nothing written)."""

    def __init__(self, errors: dict, *, stale=False):
        super().__init__(errors)
        self.errors = errors
        self.stale = stale


def sections(kind) -> tuple:
    """The office's sections of a report of ``kind`` (the 2021 report has only 下一步工作)."""
    if kind == ReportKind.MOBILISATION:
        return ("next_steps",)
    return TEXT_FIELDS


def evaluation(kind) -> bool:
    return kind in (ReportKind.MIDTERM, ReportKind.FINAL)


def draft_for(plan, kind, cutoff):
    return (
        ReportDraft.objects.filter(plan=plan, kind=kind, cutoff=cutoff).select_related("updated_by").first()
    )


def _who(draft):
    user = draft.updated_by
    name = person_name(user, missing=_("（未知）"))
    return name, timezone.localtime(draft.updated_at).strftime("%Y-%m-%d %H:%M")


def stale_message(draft):
    name, at = _who(draft)
    return _(
        "保存失败：这份报告稿在您打开之后已被%(name)s于 %(at)s 修改（现为第 %(version)s 版）。"
        "您填写的内容仍在下方，请复制保存后刷新页面，在最新版本上重新修改。"
    ) % {"name": name, "at": at, "version": draft.version}


def clean_texts(kind, data) -> dict:
    texts = {name: str(data.get(name) or "").replace("\r\n", "\n").strip() for name in sections(kind)}
    for name in ISSUE_FIELDS:
        texts[name] = str(data.get(name) or "").strip()
    return texts


def text_errors(kind, texts) -> dict:
    labels = {**office_labels(), "addressee": _("主送机关"), "document_number": _("文号")}
    errors = {}
    for name in sections(kind):
        if len(texts[name]) > NEXT_STEPS_MAX:
            errors[name] = _("“%(section)s”不能超过 %(n)s 字（现有 %(len)s 字）。") % {
                "section": labels[name],
                "n": NEXT_STEPS_MAX,
                "len": len(texts[name]),
            }
    for name, limit in ISSUE_FIELDS.items():
        if len(texts[name]) > limit:
            errors[name] = _("“%(section)s”不能超过 %(n)s 字（现有 %(len)s 字）。") % {
                "section": labels[name],
                "n": limit,
                "len": len(texts[name]),
            }
    return errors


def pick_errors(plan, kind, cutoff, picks) -> tuple[list, dict]:
    """(resolved picks, errors): a pick no longer offered is refused by its key."""
    if not evaluation(kind):
        return [], {}
    if len(picks) > highlights.MAX_PICKS:
        return [], {"picks": _("典型经验最多勾选 %(n)s 条。") % {"n": highlights.MAX_PICKS}}
    found, missing = highlights.resolve(plan, kind, cutoff, picks)
    if missing:
        return found, {
            "picks": _(
                "勾选的典型经验中有 %(n)s 条已不存在或不再是审核通过的内容（%(keys)s），"
                "请在刷新后的列表中重新勾选。"
            )
            % {"n": len(missing), "keys": "、".join(missing[:5])}
        }
    return found, {}


def final_errors(kind, texts) -> dict:
    """A final needs every office section written (the message names the empty ones)."""
    labels = office_labels()
    empty = [labels[name] for name in sections(kind) if not texts[name]]
    if not empty:
        return {}
    return {
        "final": _("不能定稿：省纲要办的“%(sections)s”尚未填写。定稿中不能留有待填写的内容，请填写后再定稿。")
        % {"sections": "”“".join(empty)}
    }


def _locked(plan, kind, cutoff, version):
    """The draft locked for the save (None before the first), refusing a stale version."""
    draft = (
        ReportDraft.objects.select_for_update(of=("self",))
        .select_related("updated_by")
        .filter(plan=plan, kind=kind, cutoff=cutoff)
        .first()
    )
    current = draft.version if draft is not None else 0
    try:
        version = int(version)
    except (TypeError, ValueError):
        version = -1
    if version != current:
        if draft is None:
            raise DraftRefused({None: _("保存失败：页面已过期，请刷新后重新填写。")}, stale=True)
        raise DraftRefused({None: stale_message(draft)}, stale=True)
    return draft


def save_draft(plan, kind, cutoff, *, data, picks, version, by) -> ReportDraft:
    """Check and store the office's texts and picks as the next version of the draft."""
    texts = clean_texts(kind, data)
    picks = [str(p) for p in dict.fromkeys(picks or []) if p]
    errors = text_errors(kind, texts)
    _found, refused = pick_errors(plan, kind, cutoff, picks)
    errors.update(refused)
    if errors:
        raise DraftRefused(errors)
    with transaction.atomic():
        return _write(plan, kind, cutoff, texts, picks, version, by)


def _write(plan, kind, cutoff, texts, picks, version, by):
    draft = _locked(plan, kind, cutoff, version)
    if draft is None:
        draft = ReportDraft(plan=plan, kind=kind, cutoff=cutoff, version=0)
    for name, value in texts.items():
        setattr(draft, name, value)
    draft.picks = picks
    draft.version += 1
    draft.updated_by = by
    draft._history_user = by
    try:
        with transaction.atomic():
            draft.save()
    except IntegrityError as exc:  # two first saves at once: the other one won
        raise DraftRefused(
            {None: _("保存失败：这份报告稿刚刚已被他人创建，请刷新页面后重新修改。")}, stale=True
        ) from exc
    return draft


def issue(plan, kind, cutoff, *, data, picks, version, by, final) -> tuple[ReportDraft, ReportRun]:
    """Save the draft and queue its preview (征求意见稿) or its final (定稿, numbered): a new run
    each time. Refused (nothing written) for bad texts, picks, a stale version, an empty section
    of a final, a cut-off the report cannot have, or a run of this report still being generated."""
    texts = clean_texts(kind, data)
    picks = [str(p) for p in dict.fromkeys(picks or []) if p]
    errors = text_errors(kind, texts)
    found, refused = pick_errors(plan, kind, cutoff, picks)
    errors.update(refused)
    if final and not errors:
        if not evaluation(kind):
            errors["final"] = _("只有中期评估报告和总结评估报告需要定稿。")
        else:
            errors.update(final_errors(kind, texts))
    office = {
        "overall": texts.get("overall", ""),
        "problems": texts.get("problems", ""),
        "addressee": texts["addressee"],
        "document_number": texts["document_number"],
        "final": bool(final),
    }
    if not errors:
        for field, message in check_request(
            plan, kind=kind, cutoff=cutoff, next_steps=texts["next_steps"], office=office
        ).items():
            errors["final" if field == "final" else None] = message
    if errors:
        raise DraftRefused(errors)
    with transaction.atomic():
        draft = _write(plan, kind, cutoff, texts, picks, version, by)
        try:
            run, created = request_report(
                plan, kind=kind, cutoff=cutoff, next_steps=texts["next_steps"], by=by, office=office
            )
        except ValidationError as exc:
            raise DraftRefused({None: " ".join(m for ms in exc.message_dict.values() for m in ms)}) from exc
        if not created:
            raise DraftRefused(
                {
                    None: _(
                        "这份报告的第 %(id)s 号文件（%(status)s）还在生成，完成后才能再次生成。"
                        "您填写的内容未保存，仍在下方。"
                    )
                    % {"id": run.pk, "status": run.get_status_display()}
                }
            )
        number = None
        if final:
            number = (
                ReportRun.objects.filter(plan=plan, kind=kind, cutoff=cutoff, final=True)
                .exclude(pk=run.pk)
                .exclude(status=RunStatus.FAILED)  # a final that failed to render was never issued
                .count()
                + 1
            )
        ReportRun.objects.filter(pk=run.pk).update(
            highlights=highlights.snapshot_entries(found), final_number=number
        )
        run.highlights, run.final_number = highlights.snapshot_entries(found), number
    return draft, run
