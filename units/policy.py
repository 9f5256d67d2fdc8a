"""Who may see and do what: the portal's one access policy.

Every page (through ``portal.mixins.PolicyRequiredMixin``), every API endpoint (through
``portal.permissions.PolicyPermission``), every service that refuses a user, every scoped queryset
(``visible_to(user)``, built from ``unit_scope``) and the menu (``portal.context_processors``)
asks the questions below; nothing else compares roles. A question is a function of the user
(and, for some, of an object) that answers True or False; ``require`` raises ``PermissionDenied``
with the question's refusal message, so a refusal reads the same wherever it happens.

The rules, in short:

- the office (and superusers, who count as the office) reviews, manages periods, settings,
  roll-ups, reports and accounts, and reads everything;
- viewers (leaders) read everything the office reads and change nothing;
- unit staff (reporters and approvers) read and fill in their own unit's forms; only the approver
  submits; staff of a lead unit also read the progress of the initiatives their unit leads
  (牵头单位视图, read only);
- province-wide progress (the dashboard and its drill-downs, target progress, roll-up runs,
  reports, figure exports, period overviews) is for the office and viewers only; on the API
  too: a target's progress fields are filled in only where ``can_see_progress`` allows.

This module imports nothing of the other apps (units is the bottom of the import order): it reads
the objects it is given by their attributes (``submission.unit_id``, ``target.initiative_id``,
``unit.assignments.leads()``).
"""

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext as _

from units.choices import Role

UNIT_STAFF = frozenset({Role.REPORTER, Role.APPROVER})
READS_EVERYTHING = frozenset({Role.OFFICE, Role.VIEWER})


# Who the user is ---------------------------------------------------------------------------


def membership_of(user):
    """The user's membership, or None (loaded with the user, see portal.middleware)."""
    if user is None or not user.is_authenticated:
        return None
    try:
        return user.membership
    except ObjectDoesNotExist:  # a user with no role sees only what any logged-in user sees
        return None


def role_of(user):
    """The user's role; superusers without a membership count as the office."""
    membership = membership_of(user)
    if membership is not None:
        return membership.role
    if user is not None and user.is_authenticated and user.is_superuser:
        return Role.OFFICE
    return None


def directory_account_of(user):
    """The user's DirectoryAccount (their name, unit and role come from the directory), or None for
    a local account. Cached on the user object; costs a query the first time."""
    if user is None or not user.is_authenticated:
        return None
    try:
        return user.directory_account
    except ObjectDoesNotExist:
        return None


def refused_for_want_of_mapping(user) -> bool:
    """A directory user whom the office's mapping gives no unit and role may use nothing but the
    page that says so (units.middleware) and gets 401 on the API. Local accounts without a role keep
    what any logged-in user may read. Users with a membership cost no query here."""
    if membership_of(user) is not None or user is None or not user.is_authenticated:
        return False
    return directory_account_of(user) is not None


def unit_of(user):
    """The unit a user reports for, or None."""
    membership = membership_of(user)
    return membership.unit if membership is not None else None


def _staff_unit_id(user):
    """The unit id of a reporter or approver, else None."""
    membership = membership_of(user)
    if membership is None or membership.role not in UNIT_STAFF:
        return None
    return membership.unit_id


def led_initiative_ids(user) -> frozenset:
    """Ids of the initiatives whose lead unit (whole or for a part) the user works for; empty for
    everyone but unit staff. One query, kept on the user object for the request."""
    unit_id = _staff_unit_id(user)
    if unit_id is None:
        return frozenset()
    cached = getattr(user, "_led_initiative_ids", None)
    if cached is None:
        cached = frozenset(user.membership.unit.assignments.leads().values_list("initiative_id", flat=True))
        user._led_initiative_ids = cached
    return cached


# Questions about the user ------------------------------------------------------------------


def is_logged_in(user) -> bool:
    """Any logged-in user: the plan, targets, units, periods, messages, their own token."""
    return user is not None and user.is_authenticated


def is_unit_staff(user) -> bool:
    """Reporters and approvers: the unit inbox."""
    return _staff_unit_id(user) is not None


def leads_initiatives(user) -> bool:
    """Staff of a unit that leads an initiative (or a part of one): 牵头行动, the list of those
    initiatives with links to their progress pages (read only)."""
    return bool(led_initiative_ids(user))


def can_see_all_units(user) -> bool:
    """The office and viewers read every unit's forms and evidence."""
    return role_of(user) in READS_EVERYTHING


def can_see_dashboard(user) -> bool:
    """Province-wide progress: the dashboard and its drill-downs, period overviews, figure exports,
    roll-up runs and target progress of every target."""
    return role_of(user) in READS_EVERYTHING


def can_see_reports(user) -> bool:
    """评估报告: the list, each run's status, the PDFs."""
    return role_of(user) in READS_EVERYTHING


def can_review(user, submission=None) -> bool:
    """The office approves and returns submitted forms (the review queue); with a form: whether
    this one is waiting for review."""
    if role_of(user) != Role.OFFICE:
        return False
    return submission is None or submission.awaits_review


def can_reopen(user, submission) -> bool:
    """The office reopens an approved form for a correction."""
    return role_of(user) == Role.OFFICE and submission.is_approved


def can_manage_periods(user) -> bool:
    """Open and close periods, extend a unit's deadline."""
    return role_of(user) == Role.OFFICE


def can_send_reminders(user) -> bool:
    """催报: remind units that have not reported for a period."""
    return role_of(user) == Role.OFFICE


def can_manage_settings(user) -> bool:
    """Thresholds, waypoints, external figures, targets' and regions' baselines."""
    return role_of(user) == Role.OFFICE


def can_see_open_questions(user) -> bool:
    """待明确事项 (the analysts' open questions about a target): working notes for the office."""
    return role_of(user) == Role.OFFICE


def can_run_rollups(user) -> bool:
    """Start a roll-up run by hand."""
    return role_of(user) == Role.OFFICE


def can_manage_reports(user) -> bool:
    """Request a milestone report or a quarterly brief."""
    return role_of(user) == Role.OFFICE


def can_manage_accounts(user) -> bool:
    """Unlock locked accounts, see and revoke everyone's API tokens."""
    return role_of(user) == Role.OFFICE


# Questions about an object -----------------------------------------------------------------


def can_view_submission(user, submission) -> bool:
    """The office and viewers read every form; unit staff their own unit's."""
    return can_see_all_units(user) or works_for(user, submission.unit_id)


def works_for(user, unit_id) -> bool:
    """A reporter or approver of that unit (who may fill in its forms while they are editable)."""
    staff_unit = _staff_unit_id(user)
    return staff_unit is not None and staff_unit == unit_id


def can_edit(user, submission) -> bool:
    """Unit reporters and approvers edit their unit's drafts and returned forms (and start a form
    not yet created: an unsaved ``Submission(unit=…, period=…)`` is a draft)."""
    return works_for(user, submission.unit_id) and submission.is_editable


def can_submit(user, submission) -> bool:
    """The unit's approver sends its editable form to the office."""
    membership = membership_of(user)
    return can_edit(user, submission) and membership is not None and membership.role == Role.APPROVER


def can_edit_self_assessment(user, self_assessment) -> bool:
    """Unit reporters and approvers of a member unit of the office fill in their unit's
    self-assessment (自评) while it is a draft or returned and its evaluation round is open (an
    unsaved one counts as a draft)."""
    return (
        works_for(user, self_assessment.unit_id)
        and self_assessment.unit.office_member
        and self_assessment.is_editable
        and self_assessment.round.is_open
    )


def can_submit_self_assessment(user, self_assessment) -> bool:
    """The unit's approver sends the self-assessment it may edit to the office."""
    membership = membership_of(user)
    return (
        can_edit_self_assessment(user, self_assessment)
        and membership is not None
        and membership.role == Role.APPROVER
    )


def can_see_initiative(user, initiative) -> bool:
    """An initiative's progress page: the office and viewers, and the staff of its lead units."""
    return can_see_dashboard(user) or initiative.pk in led_initiative_ids(user)


def is_lead_view(user, initiative) -> bool:
    """Whether the user sees the initiative as its lead unit (read only, no drill-downs)."""
    return not can_see_dashboard(user) and initiative.pk in led_initiative_ids(user)


def can_see_progress(user, target) -> bool:
    """A target's progress (actual, expected, status, forecast): everything for the office and
    viewers; for unit staff only the targets of the initiatives their unit leads."""
    return can_see_dashboard(user) or (
        target.initiative_id is not None and target.initiative_id in led_initiative_ids(user)
    )


def can_revoke_token(user, owner_id) -> bool:
    """A user revokes their own API token; the office anyone's."""
    return is_logged_in(user) and (owner_id == user.pk or can_manage_accounts(user))


# Scoping querysets -------------------------------------------------------------------------


def unit_scope(user, unit_field="unit") -> Q:
    """The filter of rows owned by units that a user may read: every row for the office and
    viewers, their unit's rows for unit staff, none for anyone else. Each model's
    ``visible_to(user)`` applies it with the path to its unit."""
    if can_see_all_units(user):
        return Q()
    unit_id = _staff_unit_id(user)
    if unit_id is None:
        return Q(pk__in=[])
    return Q(**{f"{unit_field}_id": unit_id})


# Refusals ----------------------------------------------------------------------------------


def _refusals():
    """Each question's refusal, in the active language (evaluated per call)."""
    return {
        "office": _("只有省纲要办可以执行此操作。"),
        "edit": _("您不能修改其他单位的报送表，省纲要办和查阅人员也不能修改单位填报的数据。"),
        "edit_page": _("这张报送表您不能修改。"),
        "start": _("只有本单位的填报员和审核员可以填报本单位的报送表。"),
        "submit_other_unit": _("您不能提交其他单位的报送表。"),
        "submit": _("只有本单位审核员可以提交报送表，填报员请保存草稿后通知审核员。"),
        "add_evidence": _("只能向本单位可编辑的报送表上传佐证材料。"),
        "remove_evidence": _("只能删除本单位可编辑报送表中的佐证材料。"),
        "excel_upload": _("只有本单位的填报员和审核员可以上传 Excel，且报送表须为草稿或已退回状态。"),
        "see_dashboard": _("只有省纲要办和查阅人员可以查看全省进展。"),
        "see_reports": _("只有省纲要办和查阅人员可以查看评估报告。"),
        "manage_reports": _("只有省纲要办可以生成评估报告。"),
        "run_rollups": _("只有省纲要办可以发起汇总。"),
        "lead": _("只有牵头单位的填报员和审核员可以查看牵头行动。"),
        "edit_self_assessment": _(
            "只有本单位的填报员和审核员可以在评估工作开放期间修改本单位的自评，已提交或已通过的自评不能修改。"
        ),
        "submit_self_assessment": _("只有本单位审核员可以提交自评，填报员请保存草稿后通知审核员。"),
    }


# The refusal each user question answers with, when a page or endpoint asks it.
REFUSAL_OF = {
    "can_see_dashboard": "see_dashboard",
    "can_see_reports": "see_reports",
    "can_review": "office",
    "can_manage_periods": "office",
    "can_send_reminders": "office",
    "can_manage_settings": "office",
    "can_manage_accounts": "office",
    "can_manage_reports": "manage_reports",
    "can_run_rollups": "run_rollups",
    "leads_initiatives": "lead",
}


def answer(question, user) -> bool:
    """The answer to a user question named by a page or an endpoint (``"can_see_dashboard"``)."""
    return globals()[question](user)


def ask(question, user) -> None:
    """Refuse (``PermissionDenied`` with the question's message) unless the answer is yes."""
    require(answer(question, user), REFUSAL_OF.get(question))


def refusal_for(question) -> str:
    """The message a refused question answers with ("" for Django's and DRF's plain 403)."""
    return refusal(REFUSAL_OF.get(question))


def refusal(key) -> str:
    """The message of a refusal (``None`` key: no message, Django's plain 403)."""
    return _refusals()[key] if key else ""


def require(allowed: bool, key=None):
    """Raise ``PermissionDenied`` with the refusal ``key``'s message unless ``allowed``."""
    if not allowed:
        raise PermissionDenied(refusal(key)) if key else PermissionDenied


def require_submitter(user, document, key="submit"):
    """The unit's approver, and nobody else, submits its form or self-assessment (two messages:
    wrong unit, wrong role ``key``)."""
    require(works_for(user, document.unit_id), "submit_other_unit")
    require(membership_of(user).role == Role.APPROVER, key)
