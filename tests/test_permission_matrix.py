"""The permission matrix: every page and every API endpoint × every role, in one table.

Each row of ``MATRIX`` is a URL (by its name), a method and the status each role gets, in the
order of ``ROLES``:

- anonymous;
- other: a reporter of another unit (省科协, kx);
- viewer: a read-only leader;
- reporter, approver: the staff of the subject unit, 省科技厅 (kjt), whose forms the rows use;
- lead: a reporter of 省教育厅 (jyt), which leads 提升行动 A1, where 省科技厅 is responsible;
- office: a 纲要办审核员;
- admin: a superuser without a membership (``role_of`` counts a superuser as the office).

``LOGIN`` means "sent to the log-in page". A GET never writes: no INSERT, UPDATE or DELETE (the
session's expiry refresh aside), whoever asks. A write (POST, PATCH) that a role may not make must
be refused (403, or 404 when the role cannot even see the object) and change nothing: each write
runs in a savepoint that is rolled back afterwards, and the data it could touch is compared
before and after. Every answer is also searched for what the role must not see: the narratives
of other units' drafts, another unit's 退回意见, and links to other units' submissions and
evidence. The URL patterns come from the resolver, so a new page or endpoint that is not in the
table fails the test until someone decides who may open it.
"""

import datetime
import json
import re
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from reports.choices import ReportKind, RunStatus
from reports.documents.data import build_snapshot
from reports.models import ReportDraft, ReportRun, RollupRun
from reports.rollup.rollups import rollup
from reports.rollup.services import request_rollup
from targets.models import TargetFigure, TargetWaypoint
from targets.submission import excel
from targets.submission.services import save_form
from tasks import services
from tasks.choices import EvaluationKind
from tasks.models import (
    DeadlineExtension,
    EvaluationRound,
    Evidence,
    MeasureJudgement,
    MeasureLine,
    Notification,
    OfficeReminder,
    Period,
    SelfAssessment,
    SelfAssessmentEvent,
    Submission,
    SubmissionEvent,
)
from tasks.selectors import current_plan
from tests.conftest import make_user
from tests.factories import open_period
from tests.test_workflow import fill_everything
from units.choices import Role
from units.models import Unit

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "other", "viewer", "reporter", "approver", "lead", "office", "admin")
LOGIN = "login"  # a redirect to the log-in page

# URLs that are not the portal's own pages or endpoints: Django's admin (its own permissions),
# the language switch and uploaded media (served by the web server, not Django, in production).
EXCLUDED_PREFIXES = ("admin/", "i18n/", "media/", "^media/", "static/")

# Texts that only some roles may read, and the roles that may. Every answer is searched for them.
SUBJECT_DRAFT = "【机密】科技厅草稿进展"
SUBJECT_COMMENT = "【机密】科技厅退回意见"
OTHER_DRAFT = "【机密】科协草稿进展"
LEAD_DRAFT = "【机密】教育厅草稿进展"
SECRETS = {
    SUBJECT_DRAFT: {"viewer", "reporter", "approver", "office", "admin"},
    SUBJECT_COMMENT: {"viewer", "reporter", "approver", "office", "admin"},
    OTHER_DRAFT: {"viewer", "other", "office", "admin"},
    LEAD_DRAFT: {"viewer", "lead", "office", "admin"},
}
UNIT_OF_ROLE = {"other": "kx", "reporter": "kjt", "approver": "kjt", "lead": "jyt"}


@dataclass
class Row:
    name: str  # the URL's name
    method: str
    args: object  # world → reverse() args
    expect: tuple  # one status per role, in ROLES order
    data: object = None  # world → request body (POST, PATCH)
    api: bool = False
    must_change: bool = True  # an allowed write changes something (else it only answers)


def get(name, args, *expect, api=False):
    return Row(name, "GET", args, expect, api=api)


def post(name, args, *expect, data=None, api=False, must_change=True):
    return Row(name, "POST", args, expect, data=data, api=api, must_change=must_change)


def patch(name, args, *expect, data=None):
    return Row(name, "PATCH", args, expect, data=data, api=True)


def api_get(name, args, *expect):
    return get(name, args, *expect, api=True)


NONE = lambda w: []  # noqa: E731 - the table reads better with one-word argument makers
DRAFT = lambda w: [w.draft.pk]  # noqa: E731
SUBMITTED = lambda w: [w.submitted.pk]  # noqa: E731
APPROVED = lambda w: [w.approved.pk]  # noqa: E731
EVIDENCE = lambda w: [w.evidence.pk]  # noqa: E731
PERIOD = lambda w: [w.period.pk]  # noqa: E731
RUN = lambda w: [w.report.pk]  # noqa: E731
EDITOR = lambda w: [ReportKind.FINAL, "2025-12-31"]  # noqa: E731
ROUND = lambda w: [w.round.pk]  # noqa: E731
SA_DRAFT = lambda w: [w.sa_draft.pk]  # noqa: E731
SA_SUBMITTED = lambda w: [w.sa_submitted.pk]  # noqa: E731

ALL_200 = (LOGIN, 200, 200, 200, 200, 200, 200, 200)
API_ALL_200 = (401, 200, 200, 200, 200, 200, 200, 200)
OFFICE_AND_VIEWER = (LOGIN, 403, 200, 403, 403, 403, 200, 200)
API_OFFICE_AND_VIEWER = (401, 403, 200, 403, 403, 403, 200, 200)
OFFICE_ONLY = (LOGIN, 403, 403, 403, 403, 403, 200, 200)
SEES_THE_FORM = (LOGIN, 404, 200, 200, 200, 404, 200, 200)
POST_ONLY = (LOGIN, 405, 405, 405, 405, 405, 405, 405)
API_POST_ONLY = (401, 405, 405, 405, 405, 405, 405, 405)

# fmt: off
MATRIX = [
    # ---------------------------------------------------------------- pages
    #                                                         anon   other viewer rep  appr  lead  office admin
    get("home", NONE,                                         302,   302,  302,   302, 302,  302,  302,   302),
    get("login", NONE,                                        200,   200,  200,   200, 200,  200,  200,   200),
    get("logout", NONE,                                       405,   405,  405,   405, 405,  405,  405,   405),
    get("healthz", NONE,                                      200,   200,  200,   200, 200,  200,  200,   200),
    get("favicon", NONE,                                      301,   301,  301,   301, 301,  301,  301,   301),
    get("help", NONE, *ALL_200),
    get("reports:evaluation_rules", NONE, *ALL_200),
    get("accounts:lockout_list", NONE, *OFFICE_ONLY),
    get("accounts:lockout_unlock", NONE,                      LOGIN, 403,  403,   403, 403,  403,  405,   405),
    get("accounts:token_list", NONE, *ALL_200),
    # only directory users without a unit and role see it (tests/test_ldap.py); everyone else is sent home
    get("accounts:unmapped", NONE,                            LOGIN, 302,  302,   302, 302,  302,  302,   302),
    get("accounts:token_revoke", lambda w: [w.users["reporter"].pk], *POST_ONLY),
    get("targets:plan_detail", NONE, *ALL_200),
    get("targets:initiative_detail", lambda w: ["A1"], *ALL_200),
    get("targets:target_list", NONE, *ALL_200),
    get("targets:target_detail", lambda w: ["T04"], *ALL_200),
    get("targets:unit_list", NONE, *ALL_200),
    get("targets:unit_detail", lambda w: ["kjt"], *ALL_200),
    get("targets:submission_start", lambda w: ["kjt", w.period.pk],
                                                              LOGIN, 404,  302,   302, 302,  404,  302,   302),
    get("targets:submission_detail", DRAFT, *SEES_THE_FORM),
    get("targets:submission_history", DRAFT, *SEES_THE_FORM),
    get("targets:submission_excel", DRAFT, *SEES_THE_FORM),
    get("targets:submission_excel_upload", DRAFT,             LOGIN, 404,  403,   200, 200,  404,  403,   403),
    get("targets:figures_export_xlsx", NONE, *OFFICE_AND_VIEWER),
    get("targets:figures_export_csv", NONE, *OFFICE_AND_VIEWER),
    get("tasks:inbox", NONE,                                  LOGIN, 200,  403,   200, 200,  200,  403,   403),
    get("tasks:review_queue", NONE, *OFFICE_ONLY),
    get("tasks:period_list", NONE, *OFFICE_AND_VIEWER),
    get("tasks:period_overview", PERIOD, *OFFICE_AND_VIEWER),
    get("tasks:period_state", PERIOD,                         LOGIN, 403,  403,   403, 403,  403,  405,   405),
    get("tasks:extension_create", PERIOD,                     LOGIN, 403,  403,   403, 403,  403,  405,   405),
    get("tasks:period_remind", PERIOD,                        LOGIN, 403,  403,   403, 403,  403,  405,   405),
    get("tasks:submission_submit", DRAFT, *POST_ONLY),
    get("tasks:submission_approve", SUBMITTED, *POST_ONLY),
    get("tasks:submission_return", SUBMITTED, *POST_ONLY),
    get("tasks:submission_reopen", APPROVED, *POST_ONLY),
    get("tasks:evidence_upload", DRAFT, *POST_ONLY),
    get("tasks:evidence_download", EVIDENCE, *SEES_THE_FORM),
    get("tasks:evidence_delete", EVIDENCE, *POST_ONLY),
    get("tasks:round_list", NONE, *OFFICE_AND_VIEWER),
    get("tasks:round_detail", ROUND, *OFFICE_AND_VIEWER),
    get("tasks:round_state", ROUND,                           LOGIN, 403,  403,   403, 403,  403,  405,   405),
    # unit staff: their own self-assessment (kjt's exists: sent to it; kx and jyt see an unsaved one)
    get("tasks:self_assessment_mine", ROUND,                  LOGIN, 200,  403,   302, 302,  200,  403,   403),
    get("tasks:self_assessment_detail", SA_DRAFT, *SEES_THE_FORM),
    get("tasks:self_assessment_submit", SA_DRAFT, *POST_ONLY),
    get("tasks:self_assessment_approve", SA_SUBMITTED, *POST_ONLY),
    get("tasks:self_assessment_return", SA_SUBMITTED, *POST_ONLY),
    get("tasks:notification_list", NONE, *ALL_200),
    get("tasks:notification_read", NONE, *POST_ONLY),
    get("reports_office:settings", NONE, *OFFICE_ONLY),
    get("reports_office:waypoint_delete", lambda w: [w.waypoint.pk],
                                                              LOGIN, 403,  403,   403, 403,  403,  405,   405),
    get("reports_office:rollup_runs", NONE, *OFFICE_AND_VIEWER),
    get("reports:dashboard", NONE, *OFFICE_AND_VIEWER),
    # 牵头行动: the staff of a lead unit (jyt leads A1, kx P4, kjt P2)
    get("reports:led_initiatives", NONE,                      LOGIN, 200,  403,   200, 200,  200,  403,   403),
    # the lead unit's staff read the initiative they lead (牵头单位视图); the responsible unit does not
    get("reports:initiative_detail", lambda w: ["A1"],        LOGIN, 403,  200,   403, 403,  200,  200,   200),
    # T04 belongs to P4, which 省科协 (other) leads: a target's progress is the lead unit's too, as
    # on its initiative page and in /api/v1/targets/ (made to agree: 403 for other before)
    get("reports:target_detail", lambda w: ["T04"],          LOGIN, 200,  200,   403, 403,  403,  200,   200),
    get("reports:unit_detail", lambda w: ["kjt"], *OFFICE_AND_VIEWER),
    get("reports:region_detail", lambda w: ["630100"], *OFFICE_AND_VIEWER),
    get("reports_pdf:list", NONE, *OFFICE_AND_VIEWER),
    get("reports_pdf:status", RUN, *OFFICE_AND_VIEWER),
    get("reports_pdf:download", RUN, *OFFICE_AND_VIEWER),
    get("reports_pdf:download_docx", RUN, *OFFICE_AND_VIEWER),
    get("reports_pdf:editor", EDITOR, *OFFICE_ONLY),
    # ---------------------------------------------------------------- page writes
    #                                                         anon   other viewer rep  appr  lead  office admin
    post("targets:submission_detail", DRAFT,                  LOGIN, 404,  403,   302, 302,  404,  403,   403,
         data=lambda w: {"version": w.draft_version, f"line-{w.line.pk}-progress": "改过的进展"}),
    post("targets:submission_excel_upload", DRAFT,            LOGIN, 404,  403,   302, 302,  404,  403,   403,
         data=lambda w: {"file": SimpleUploadedFile("进展报送.xlsx", w.workbook)}, must_change=False),
    post("tasks:submission_submit", DRAFT,                    LOGIN, 404,  403,   403, 302,  404,  403,   403),
    post("tasks:submission_approve", SUBMITTED,               LOGIN, 404,  403,   403, 403,  404,  302,   302),
    post("tasks:submission_return", SUBMITTED,                LOGIN, 404,  403,   403, 403,  404,  302,   302,
         data=lambda w: {"comment": "请补充佐证材料"}),
    post("tasks:submission_reopen", APPROVED,                 LOGIN, 404,  403,   403, 403,  404,  302,   302,
         data=lambda w: {"comment": "数据需更正"}),
    post("tasks:evidence_upload", DRAFT,                      LOGIN, 404,  403,   302, 302,  404,  403,   403,
         data=lambda w: {"file": SimpleUploadedFile("会议纪要.pdf", b"%PDF-1.4\n%%EOF\n")}),
    post("tasks:evidence_delete", EVIDENCE,                   LOGIN, 404,  403,   302, 302,  404,  403,   403),
    # everyone may mark their own messages read; only the reporter's own message changes
    post("tasks:notification_read", NONE,                     LOGIN, 302,  302,   302, 302,  302,  302,   302,
         data=lambda w: {"id": [w.notification.pk]}),
    post("tasks:period_state", PERIOD,                        LOGIN, 403,  403,   403, 403,  403,  302,   302,
         data=lambda w: {"state": "closed"}),
    post("tasks:extension_create", PERIOD,                    LOGIN, 403,  403,   403, 403,  403,  302,   302,
         data=lambda w: {"unit": "kjt", "deadline": "2024-12-31", "reason": "抗灾"}),
    # 催报: the office reminds 省科协 (a draft in the period); nobody else may
    post("tasks:period_remind", PERIOD,                       LOGIN, 403,  403,   403, 403,  403,  302,   302,
         data=lambda w: {"unit": ["kx"]}),
    # both kinds are open in the world: the office's POST is refused with the message (test_self_assessment)
    post("tasks:round_list", NONE,                            LOGIN, 403,  403,   403, 403,  403,  302,   302,
         data=lambda w: {"kind": "final", "deadline": "2099-12-31"}, must_change=False),
    post("tasks:round_state", ROUND,                          LOGIN, 403,  403,   403, 403,  403,  302,   302,
         data=lambda w: {"state": "closed"}),
    # each unit's staff save (and start) their own unit's self-assessment
    post("tasks:self_assessment_mine", ROUND,                 LOGIN, 302,  403,   302, 302,  302,  403,   403,
         data=lambda w: {"achievements": "新的主要成效"}),
    post("tasks:self_assessment_detail", SA_DRAFT,            LOGIN, 404,  403,   302, 302,  404,  403,   403,
         data=lambda w: {"version": w.sa_draft.version, "achievements": "改过的主要成效"}),
    post("tasks:self_assessment_submit", SA_DRAFT,            LOGIN, 404,  403,   403, 302,  404,  403,   403),
    post("tasks:self_assessment_approve", SA_SUBMITTED,       LOGIN, 404,  403,   403, 403,  404,  302,   302),
    post("tasks:self_assessment_return", SA_SUBMITTED,        LOGIN, 404,  403,   403, 403,  404,  302,   302,
         data=lambda w: {"comment": "请补充成效数据"}),
    post("reports_office:settings", NONE,                     LOGIN, 403,  403,   403, 403,  403,  302,   302,
         data=lambda w: {"form": "waypoint", "target": w.waypoint.target_id, "year": "2023", "value": "5"}),
    post("reports_office:waypoint_delete", lambda w: [w.waypoint.pk],
                                                              LOGIN, 403,  403,   403, 403,  403,  302,   302),
    post("reports_office:rollup_runs", NONE,                  LOGIN, 403,  403,   403, 403,  403,  302,   302),
    post("reports_pdf:list", NONE,                            LOGIN, 403,  403,   403, 403,  403,  302,   302,
         data=lambda w: {"kind": ReportKind.FINAL, "cutoff": "2025-12-31"}),
    post("reports_pdf:editor", EDITOR,                        LOGIN, 403,  403,   403, 403,  403,  302,   302,
         data=lambda w: {"action": "save", "version": 0, "overall": "总体评价草稿"}),
    post("accounts:lockout_unlock", NONE,                     LOGIN, 403,  403,   403, 403,  403,  302,   302,
         data=lambda w: {"username": "kjt-reporter"}, must_change=False),
    # a user revokes their own token, the office anyone's; the others do not learn it exists
    post("accounts:token_revoke", lambda w: [w.users["reporter"].pk],
                                                              LOGIN, 404,  404,   302, 404,  404,  302,   302),
    # ---------------------------------------------------------------- API
    get("api_token", NONE,                                    405,   405,  405,   405, 405,  405,  405,   405),
    api_get("api-root", NONE, *API_ALL_200),
    api_get("api_schema", NONE, *API_ALL_200),
    get("api_docs", NONE,                                     401,   200,  200,   200, 200,  200,  200,   200),
    api_get("plan-list", NONE, *API_ALL_200),
    api_get("plan-detail", lambda w: [w.plan.code], *API_ALL_200),
    api_get("initiative-list", NONE, *API_ALL_200),
    api_get("initiative-detail", lambda w: [w.plan.initiatives.get(code="A1").pk], *API_ALL_200),
    api_get("measure-list", NONE, *API_ALL_200),
    api_get("measure-detail", lambda w: [w.line.measure_id], *API_ALL_200),
    api_get("unit-list", NONE, *API_ALL_200),
    api_get("unit-detail", lambda w: ["kjt"], *API_ALL_200),
    api_get("region-list", NONE, *API_ALL_200),
    api_get("region-detail", lambda w: ["630100"], *API_ALL_200),
    api_get("target-list", NONE, *API_ALL_200),
    api_get("target-detail", lambda w: [w.figure.target_id], *API_ALL_200),
    api_get("period-list", NONE, *API_ALL_200),
    api_get("period-detail", PERIOD, *API_ALL_200),
    api_get("submission-list", NONE, *API_ALL_200),
    api_get("submission-detail", DRAFT,                       401,   404,  200,   200, 200,  404,  200,   200),
    api_get("submission-submit", DRAFT, *API_POST_ONLY),
    api_get("submission-approve", SUBMITTED, *API_POST_ONLY),
    api_get("submission-return", SUBMITTED, *API_POST_ONLY),
    api_get("submission-reopen", APPROVED, *API_POST_ONLY),
    api_get("submission-evidence", DRAFT, *API_POST_ONLY),
    api_get("selfassessment-list", NONE, *API_ALL_200),
    api_get("selfassessment-detail", SA_DRAFT,                401,   404,  200,   200, 200,  404,  200,   200),
    api_get("selfassessment-submit", SA_DRAFT, *API_POST_ONLY),
    api_get("selfassessment-approve", SA_SUBMITTED, *API_POST_ONLY),
    api_get("selfassessment-return", SA_SUBMITTED, *API_POST_ONLY),
    api_get("report-list", NONE, *API_OFFICE_AND_VIEWER),
    api_get("report-detail", RUN, *API_OFFICE_AND_VIEWER),
    api_get("report-download", RUN, *API_OFFICE_AND_VIEWER),
    # as the 汇总任务 page (made to agree: every logged-in user read them before)
    api_get("rollup-list", NONE, *API_OFFICE_AND_VIEWER),
    api_get("baseline-list", NONE,                            401,   403,  403,   403, 403,  403,  200,   200),
    api_get("rollup-detail", lambda w: [w.rollup.pk], *API_OFFICE_AND_VIEWER),
    # ---------------------------------------------------------------- API writes
    #                                                         anon   other viewer rep  appr  lead  office admin
    # starting the subject unit's form: it exists already, so its own staff get 200
    post("submission-list", NONE,                             401,   403,  403,   200, 200,  403,  403,   403,
         data=lambda w: {"unit": "kjt", "period": w.period.pk}, api=True, must_change=False),
    patch("submission-detail", DRAFT,                         401,   404,  403,   200, 200,  404,  403,   403,
          data=lambda w: {"version": w.draft_version, "lines": [{"id": w.line.pk, "progress": "改过的进展"}]}),
    post("submission-submit", DRAFT,                          401,   404,  403,   403, 200,  404,  403,   403, api=True),
    post("submission-approve", SUBMITTED,                     401,   404,  403,   403, 403,  404,  200,   200, api=True),
    post("submission-return", SUBMITTED,                     401,   404,  403,   403, 403,  404,  200,   200,
         data=lambda w: {"comment": "请补充佐证材料"}, api=True),
    post("submission-reopen", APPROVED,                       401,   404,  403,   403, 403,  404,  200,   200,
         data=lambda w: {"reason": "数据需更正"}, api=True),
    post("submission-evidence", DRAFT,                        401,   404,  403,   201, 201,  404,  403,   403,
         data=lambda w: {"file": SimpleUploadedFile("会议纪要.pdf", b"%PDF-1.4\n%%EOF\n")}, api=True),
    post("selfassessment-submit", SA_DRAFT,                   401,   404,  403,   403, 200,  404,  403,   403, api=True),
    post("selfassessment-approve", SA_SUBMITTED,              401,   404,  403,   403, 403,  404,  200,   200, api=True),
    post("selfassessment-return", SA_SUBMITTED,               401,   404,  403,   403, 403,  404,  200,   200,
         data=lambda w: {"comment": "请补充成效数据"}, api=True),
    post("report-list", NONE,                                 401,   403,  403,   403, 403,  403,  202,   202,
         data=lambda w: {"kind": ReportKind.FINAL, "cutoff": "2025-12-31"}, api=True),
    post("rollup-list", NONE,                                 401,   403,  403,   403, 403,  403,  202,   202,
         data=lambda w: {}, api=True),
    post("baseline-list", NONE,                               401,   403,  403,   403, 403,  403,  201,   201,
         data=lambda w: {"target": "T01", "value": "7", "year": 2020, "source": "2020年抽样调查"}, api=True),
]
# fmt: on


# Pages and API endpoints that serve the same data: each role must get it from both or from
# neither (``units.policy`` decides once for both). Each pair is (page, page args, endpoint,
# endpoint args, query, what counts as the endpoint serving the data). By default an endpoint
# serves the data when it answers 200, and a refusal must be the same (log-in ~ 401, 403, 404).
# Target progress is served by /api/v1/targets/ as fields of every target: the endpoint serves a
# target's progress when its fields are filled in (``progress_of``).
# Not pairs: the period pages (compliance counts per period) and /api/v1/periods/ (dates and
# state, which unit staff need to start a form); /plan/initiatives/<code>/ serves the plan, the
# dashboard's initiative page its progress (paired with that initiative's target progress).
@dataclass
class Pair:
    page: str
    page_args: object
    api: str
    api_args: object
    query: dict = None
    served: object = None  # (response, world) → bool; None: the status decides, and must agree


def progress_of(codes):
    """Served when every listed target (all, for None) comes with its progress."""

    def served(response, world):
        if response.status_code != 200:
            return False
        body = response.json()
        rows = body["results"] if "results" in body else [body]
        rows = [row for row in rows if codes is None or row["code"] in codes]
        return bool(rows) and all(row["status"] is not None for row in rows)

    return served


def _a1_target_codes(world):
    return list(world.plan.initiatives.get(code="A1").targets.values_list("code", flat=True))


T04 = lambda w: ["T04"]  # noqa: E731
T04_ID = lambda w: [w.plan.targets.get(code="T04").pk]  # noqa: E731
PAIRS = [
    Pair("targets:plan_detail", NONE, "plan-detail", lambda w: [w.plan.code]),
    Pair("targets:target_list", NONE, "target-list", NONE),
    Pair("targets:target_detail", T04, "target-detail", T04_ID),
    Pair("targets:unit_list", NONE, "unit-list", NONE),
    Pair("targets:unit_detail", lambda w: ["kjt"], "unit-detail", lambda w: ["kjt"]),
    Pair("targets:submission_detail", DRAFT, "submission-detail", DRAFT),
    Pair("reports_pdf:list", NONE, "report-list", NONE),
    Pair("reports_pdf:status", RUN, "report-detail", RUN),
    Pair("reports_pdf:download", RUN, "report-download", RUN),
    Pair("reports_office:rollup_runs", NONE, "rollup-list", NONE),
    Pair("reports_office:settings", NONE, "baseline-list", NONE),
    Pair("reports_office:rollup_runs", NONE, "rollup-detail", lambda w: [w.rollup.pk]),
    Pair("tasks:self_assessment_detail", SA_DRAFT, "selfassessment-detail", SA_DRAFT),
    # province-wide progress: the dashboard ~ every target's progress; one target's page ~ its progress
    Pair("reports:dashboard", NONE, "target-list", NONE, query={"limit": 1000}, served=progress_of(None)),
    Pair("reports:target_detail", T04, "target-detail", T04_ID, served=progress_of(["T04"])),
    # the lead unit's view of A1 ~ the progress of A1's targets
    Pair(
        "reports:initiative_detail",
        lambda w: ["A1"],
        "target-list",
        NONE,
        query={"initiative": "A1"},
        served=lambda response, world: progress_of(_a1_target_codes(world))(response, world),
    ),
]


def _refusal(response):
    if response.status_code == 302 and response["Location"].startswith(reverse("login")):
        return 401
    return response.status_code


def pair_problems(clients, world):
    problems = []
    for pair in PAIRS:
        page_url = reverse(pair.page, args=pair.page_args(world))
        api_url = reverse(pair.api, args=pair.api_args(world))
        for role in ROLES:
            page = clients[role].get(page_url)
            api = clients[role].get(api_url, pair.query or {})
            page_serves = page.status_code == 200
            api_serves = pair.served(api, world) if pair.served else api.status_code == 200
            where = f"{page_url} ~ {api_url} as {role}"
            if page_serves != api_serves:
                problems.append(
                    f"{where}: the page {'serves' if page_serves else 'refuses'} "
                    f"({page.status_code}), the API {'serves' if api_serves else 'refuses'} "
                    f"({api.status_code})"
                )
            elif not page_serves and pair.served is None and _refusal(page) != _refusal(api):
                problems.append(f"{where}: refused differently ({page.status_code} / {api.status_code})")
    return problems


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def no_throttling(monkeypatch):
    """The matrix makes hundreds of calls a minute; the API's rate limits are tested elsewhere."""
    monkeypatch.setattr("rest_framework.throttling.SimpleRateThrottle.allow_request", lambda *args: True)


def _walk(patterns, prefix="", namespace=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern):
            yield route, f"{namespace}{pattern.name}" if pattern.name else None


def portal_url_names():
    """Every named URL of the portal (format-suffix variants share their endpoint's name)."""
    names = set()
    for route, name in _walk(get_resolver().url_patterns):
        if route.startswith(EXCLUDED_PREFIXES):
            continue
        assert name is not None, f"URL pattern {route!r} has no name: give it one and add it to the matrix"
        names.add(name)
    return names


def build_world():
    """Forms of 省科技厅 in every state, drafts of 省科协 and 省教育厅, evidence, runs, messages."""
    plan = current_plan()
    period = open_period(2024, 3)
    kjt, kx, jyt = (Unit.objects.get(code=code) for code in ("kjt", "kx", "jyt"))
    users = {
        "other": make_user("kx-reporter", Role.REPORTER, "kx"),
        "viewer": make_user("viewer", Role.VIEWER),
        "reporter": make_user("kjt-reporter", Role.REPORTER, "kjt"),
        "approver": make_user("kjt-approver", Role.APPROVER, "kjt"),
        "lead": make_user("jyt-reporter", Role.REPORTER, "jyt"),
        "office": make_user("office", Role.OFFICE),
        "admin": make_user("admin", is_superuser=True, is_staff=True),
    }
    reporter, approver, office = users["reporter"], users["approver"], users["office"]

    def filled(unit, year, quarter, user):
        submission = services.ensure_submission(unit, Period.objects.get(year=year, quarter=quarter), by=user)
        return fill_everything(submission, user)

    approved = filled(kjt, 2024, 1, reporter)
    services.submit_submission(approved, by=approver)
    services.approve_submission(approved, by=office)
    returned = filled(kjt, 2023, 4, reporter)
    services.submit_submission(returned, by=approver)
    services.return_submission(returned, by=office, comment=SUBJECT_COMMENT)
    submitted = filled(kjt, 2024, 2, reporter)
    services.submit_submission(submitted, by=approver)

    draft = filled(kjt, 2024, 3, reporter)
    line = draft.lines.select_related("measure").filter(measure__initiative__code="A1").first()
    draft = save_form(
        draft.pk, by=reporter, version=draft.version, lines={line.pk: {"progress": SUBJECT_DRAFT}}
    )
    evidence = services.add_evidence(
        draft, SimpleUploadedFile("佐证.pdf", b"%PDF-1.4\n1 0 obj\n%%EOF\n"), by=reporter
    )
    for unit, user, secret in ((kx, users["other"], OTHER_DRAFT), (jyt, users["lead"], LEAD_DRAFT)):
        other = services.ensure_submission(unit, period, by=user)
        first = other.lines.filter(measure__initiative__code="A1").first() or other.lines.first()
        save_form(other.pk, by=user, version=other.version, lines={first.pk: {"progress": secret}})
        services.add_evidence(other, SimpleUploadedFile("其他单位.pdf", b"%PDF-1.4\n%%EOF\n"), by=user)

    # self-assessments of 省科技厅: submitted in the mid-term round, a draft (every measure judged,
    # so that its approver may submit it) in the open final round
    midterm = services.open_round(
        plan, EvaluationKind.MIDTERM, deadline=datetime.date(2099, 12, 31), by=office
    )
    final = services.open_round(plan, EvaluationKind.FINAL, deadline=datetime.date(2099, 12, 31), by=office)
    assessments = {}
    for evaluation in (midterm, final):
        assessment = services.ensure_self_assessment(evaluation, kjt, by=reporter)
        assessments[evaluation.kind] = services.save_self_assessment(
            assessment.pk,
            by=reporter,
            version=assessment.version,
            texts={"achievements": SUBJECT_DRAFT},
            judgements={
                pk: {"judgement": "done"} for pk in assessment.judgements.values_list("pk", flat=True)
            },
        )
    sa_submitted = services.submit_self_assessment(assessments[EvaluationKind.MIDTERM], by=approver)

    rollup(plan)
    rollup_run = request_rollup(plan, by=office)
    RollupRun.objects.filter(pk=rollup_run.pk).update(status=RunStatus.SUCCEEDED, finished_at=timezone.now())
    report = ReportRun.objects.create(
        plan=plan,
        kind=ReportKind.MIDTERM,
        cutoff="2023-12-31",
        status=RunStatus.SUCCEEDED,
        requested_by=office,
        snapshot=build_snapshot(plan=plan, kind=ReportKind.MIDTERM, cutoff=datetime.date(2023, 12, 31)),
    )
    report.file.save("matrix.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"))
    figure = TargetFigure.objects.filter(submission=draft).select_related("target").first()
    waypoint = TargetWaypoint.objects.create(target=figure.target, year=2022, value=1)
    Token.objects.create(user=reporter)
    workbook = excel.build_form_workbook(draft, user=reporter, editable=True)
    return SimpleNamespace(
        plan=plan,
        period=period,
        users=users,
        draft=draft,
        draft_version=draft.version,
        line=line,
        figure=figure,
        submitted=submitted,
        approved=approved,
        returned=returned,
        evidence=evidence,
        notification=Notification.objects.filter(user=reporter).first(),
        waypoint=waypoint,
        rollup=rollup_run,
        report=report,
        workbook=workbook,
        round=final,
        sa_draft=assessments[EvaluationKind.FINAL],
        sa_submitted=sa_submitted,
    )


def state():
    """What a write could change, to compare before and after a refused one."""
    return {
        "submissions": list(
            Submission.objects.order_by("pk").values_list("pk", "status", "version", "review_comment")
        ),
        "lines": list(MeasureLine.objects.order_by("pk").values_list("pk", "status", "progress")),
        "figures": list(TargetFigure.objects.order_by("pk").values_list("pk", "value", "covered", "done")),
        "events": SubmissionEvent.objects.count(),
        "evidence": list(Evidence.objects.order_by("pk").values_list("pk", flat=True)),
        "periods": list(Period.objects.order_by("pk").values_list("pk", "state")),
        "extensions": DeadlineExtension.objects.count(),
        "office_reminders": OfficeReminder.objects.count(),
        "waypoints": list(TargetWaypoint.objects.order_by("pk").values_list("pk", "year", "value")),
        "rollup_runs": RollupRun.objects.count(),
        "report_runs": ReportRun.objects.count(),
        "report_drafts": list(ReportDraft.objects.order_by("pk").values_list("pk", "version", "overall")),
        "tokens": list(Token.objects.order_by("user_id").values_list("user_id", flat=True)),
        "rounds": list(EvaluationRound.objects.order_by("pk").values_list("pk", "state")),
        "self_assessments": list(
            SelfAssessment.objects.order_by("pk").values_list("pk", "status", "version", "achievements")
        ),
        "judgements": list(MeasureJudgement.objects.order_by("pk").values_list("pk", "judgement", "note")),
        "self_assessment_events": SelfAssessmentEvent.objects.count(),
        "unread": list(Notification.objects.filter(read_at__isnull=True).values_list("pk", flat=True)),
    }


def visible_submissions(role):
    """The submissions whose links and ids a role may meet in an answer."""
    if role in UNIT_OF_ROLE:
        return set(Submission.objects.filter(unit__code=UNIT_OF_ROLE[role]).values_list("pk", flat=True))
    return set(Submission.objects.values_list("pk", flat=True))


def visible_evidence(role):
    return set(Evidence.objects.filter(submission__in=visible_submissions(role)).values_list("pk", flat=True))


def textual(response):
    kind = response.get("Content-Type", "")
    if response.streaming:
        return None
    if kind.startswith(("text/", "application/json", "application/vnd.oai.openapi")):
        return response.content.decode("utf-8", errors="replace")
    return None


def leaks(role, response):
    """What the answer shows that the role must not see."""
    body = textual(response)
    if body is None:
        return []
    found = []
    for secret, readers in SECRETS.items():
        if role not in readers and (secret in body or json.dumps(secret)[1:-1] in body):
            found.append(f"shows {secret!r}")
    submissions, evidence = visible_submissions(role), visible_evidence(role)
    linked = {int(pk) for pk in re.findall(r"/submissions/(\d+)/", body)}
    if linked - submissions:
        found.append(f"links other units' submissions {sorted(linked - submissions)}")
    linked = {int(pk) for pk in re.findall(r"/evidence/(\d+)/", body)}
    if linked - evidence:
        found.append(f"links other units' evidence {sorted(linked - evidence)}")
    return found


def list_problems(row, role, response, world):
    """Lists show only the role's unit's rows (all rows for the office, viewers and admin)."""
    if row.name != "submission-list" or row.method != "GET" or response.status_code != 200:
        return []
    units = {item["unit"] for item in response.json()["results"]}
    if role in UNIT_OF_ROLE:
        wanted = {UNIT_OF_ROLE[role]}
        return [] if units == wanted else [f"lists the forms of {sorted(units)}, expected {sorted(wanted)}"]
    return [] if {"kjt", "kx", "jyt"} <= units else [f"lists only {sorted(units)}"]


def call(client, row, url, world):
    data = row.data(world) if row.data else None
    if row.method == "GET":
        return client.get(url)
    if row.method == "PATCH":
        return client.patch(url, json.dumps(data), content_type="application/json")
    if row.api and not any(isinstance(v, SimpleUploadedFile) for v in (data or {}).values()):
        return client.post(url, json.dumps(data or {}), content_type="application/json")
    return client.post(url, data or {})


def check_cell(client, row, role, world):
    """The problems with one cell, as sentences (an empty list when the cell is as expected)."""
    url = reverse(row.name, args=row.args(world))
    expected = row.expect[ROLES.index(role)]
    where = f"{row.method} {url} as {role}"
    problems = []
    if row.method == "GET":
        with CaptureQueriesContext(connection) as queries:
            response = call(client, row, url, world)
        changed = False
        problems += [f"{where}: a GET writes: {sql[:120]}" for sql in writes(queries)]
    else:
        with transaction.atomic():
            before = state()
            response = call(client, row, url, world)
            changed = state() != before
            # what the answer links to is checked against the data as the write left it
            problems += [f"{where}: {leak}" for leak in leaks(role, response)]
            transaction.set_rollback(True)
    if expected == LOGIN:
        if response.status_code != 302 or not response["Location"].startswith(reverse("login")):
            problems.append(f"{where}: {response.status_code}, expected a redirect to log in")
    elif response.status_code != expected:
        problems.append(f"{where}: {response.status_code}, expected {expected}")
    refused = expected == LOGIN or (isinstance(expected, int) and expected >= 400)
    if row.method != "GET":
        if refused and changed:
            problems.append(f"{where}: refused, but the data changed")
        if not refused and row.must_change and not changed and role in _changes_for(row):
            problems.append(f"{where}: allowed, but nothing changed")
    if row.method == "GET":
        problems += [f"{where}: {leak}" for leak in leaks(role, response)]
    problems += [f"{where}: {problem}" for problem in list_problems(row, role, response, world)]
    return problems


WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b|\bFOR (NO KEY )?UPDATE\b", re.IGNORECASE)


def writes(queries):
    """The statements of a request that write or lock rows, but the session's own bookkeeping
    (Django slides the session's expiry every few minutes, see portal.security's
    SessionRefreshMiddleware)."""
    return [
        q["sql"]
        for q in queries.captured_queries
        if WRITE.search(q["sql"]) and "django_session" not in q["sql"].split("WHERE")[0]
    ]


def _changes_for(row):
    """Roles whose allowed write must show in the data (the others only read their own things)."""
    if row.name == "tasks:notification_read":
        return {"reporter"}
    return set(ROLES)


def test_every_page_and_endpoint_answers_each_role_as_the_table_says(capsys):
    in_table = {row.name for row in MATRIX}
    missing = portal_url_names() - in_table
    assert not missing, f"every URL must be in the permission matrix; add rows for: {sorted(missing)}"
    for row in MATRIX:
        assert len(row.expect) == len(ROLES), f"{row.name} {row.method}: one status per role"

    world = build_world()
    clients = {"anonymous": Client()}
    for role, user in world.users.items():
        clients[role] = Client()
        clients[role].force_login(user)

    problems, cells = [], 0
    for row in MATRIX:
        for role in ROLES:
            problems += check_cell(clients[role], row, role, world)
            cells += 1
    with capsys.disabled():
        print(f"\npermission matrix: {len(MATRIX)} rows × {len(ROLES)} roles = {cells} cells")
    assert not problems, f"{len(problems)} of {cells} cells are wrong:\n" + "\n".join(problems)

    # pages and endpoints serving the same data agree, role by role
    problems = pair_problems(clients, world)
    assert not problems, f"{len(problems)} page/API pairs disagree:\n" + "\n".join(problems)
    in_matrix = {row.name for row in MATRIX}
    assert {p.page for p in PAIRS} | {p.api for p in PAIRS} <= in_matrix
