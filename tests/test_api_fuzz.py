"""Fuzzing the REST API with schemathesis, from its own OpenAPI schema (/api/schema/).

Schemathesis reads the schema through the WSGI application (no server), then makes up requests
for every operation: valid ones and, as often, invalid ones (wrong types, missing fields, odd
strings). Every answer must not be a server error, must be a status the schema documents, and its
body must match the schema. It runs twice: with an office token and with a reporter's token.

Path parameters are sometimes replaced by ids that exist (a submission of the reporter's unit,
another unit's one, an approved one…), so that the detail and workflow operations are reached,
not only their 404s. The run is bounded: a fixed number of examples per operation and mode, and
a deadline per example; it takes well under a minute and a half.
"""

import os
import time
from collections import Counter

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.errors import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from reports.choices import ReportKind, RunStatus
from reports.models import ReportRun
from reports.rollup.services import request_rollup
from tasks import services
from tasks.models import Period
from tasks.selectors import current_plan
from tests.conftest import make_user
from tests.factories import open_period
from tests.test_workflow import fill_everything
from units.choices import Role
from units.models import Unit

pytestmark = pytest.mark.django_db

# CI runs a fixed, repeatable set: 10 examples per operation and mode (valid, invalid data), so 20
# per operation and token. FUZZ_EXAMPLES=60 FUZZ_RANDOM=1 explores further, by hand.
EXAMPLES_PER_MODE = int(os.environ.get("FUZZ_EXAMPLES", "10"))
RANDOM = os.environ.get("FUZZ_RANDOM") == "1"
DEADLINE_MS = 5000
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
# Operations whose views are other engineers' work in progress: their error answers are not in the
# schema yet (portal.schema.PortalAutoSchema documents them, set on the view or as DRF's
# DEFAULT_SCHEMA_CLASS). Until then they are checked for server errors only; remove a line once
# its operation passes the other checks too.
# Operations checked for server errors only (none now: every answer is documented).
SERVER_ERRORS_ONLY: dict[str, str] = {}


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def wsgi_app(monkeypatch):
    """Django's WSGI application, serving the test's database connection.

    Django closes "old" connections at the start and end of each request; inside a test that
    would close the connection holding the test's transaction. Its test client disconnects the
    same signal handler for the same reason.
    """
    monkeypatch.setattr("rest_framework.throttling.SimpleRateThrottle.allow_request", lambda *args: True)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def data():
    """Forms of 省教育厅 in several states and one of 省科协, the roll-up and report runs."""
    period = open_period(2024, 3)
    reporter = make_user("jyt-reporter", Role.REPORTER, "jyt")
    approver = make_user("jyt-approver", Role.APPROVER, "jyt")
    office = make_user("office", Role.OFFICE)
    kx_reporter = make_user("kx-reporter", Role.REPORTER, "kx")
    jyt = Unit.objects.get(code="jyt")
    approved = fill_everything(
        services.ensure_submission(jyt, Period.objects.get(year=2024, quarter=1), by=reporter), reporter
    )
    services.submit_submission(approved, by=approver)
    services.approve_submission(approved, by=office)
    submitted = fill_everything(
        services.ensure_submission(jyt, Period.objects.get(year=2024, quarter=2), by=reporter), reporter
    )
    services.submit_submission(submitted, by=approver)
    draft = services.ensure_submission(jyt, period, by=reporter)
    other = services.ensure_submission(Unit.objects.get(code="kx"), period, by=kx_reporter)
    rollup = request_rollup(current_plan(), by=office)
    report = ReportRun.objects.create(
        plan=current_plan(), kind=ReportKind.MIDTERM, cutoff="2023-12-31", status=RunStatus.SUCCEEDED
    )
    return {
        "tokens": {
            "office": Token.objects.create(user=office).key,
            "reporter": Token.objects.create(user=reporter).key,
        },
        "paths": {
            "/api/v1/submissions/{id}/": [draft.pk, submitted.pk, approved.pk, other.pk],
            "/api/v1/periods/{id}/": [period.pk],
            "/api/v1/rollups/{id}/": [rollup.pk],
            "/api/v1/reports/{id}/": [report.pk],
            "/api/v1/plans/{code}/": [current_plan().code],
            "/api/v1/units/{code}/": ["jyt", "kx", "xiningshi"],
            "/api/v1/regions/{code}/": ["630000", "630100", "630102"],
            "/api/v1/initiatives/{id}/": list(current_plan().initiatives.values_list("pk", flat=True)[:3]),
            "/api/v1/measures/{id}/": [draft.lines.first().measure_id],
            "/api/v1/targets/{id}/": list(draft.figures.values_list("target_id", flat=True)[:3]),
        },
    }


def known_parameters(operation, paths):
    """Path parameters that exist, for the operation's path (or its detail path's prefix)."""
    for prefix, values in paths.items():
        if operation.path.startswith(prefix):
            name = prefix.rsplit("{", 1)[1].rstrip("}/")
            return [{name: value} for value in values]
    return []


def examine(label, strategy, headers, found):
    """Run the examples of one strategy, noting every 5xx and the first failure of each operation."""

    @settings(
        max_examples=EXAMPLES_PER_MODE,
        deadline=DEADLINE_MS,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report, do not minimise
        suppress_health_check=list(HealthCheck),
        derandomize=not RANDOM,  # the same examples on every run unless asked otherwise
        database=None,
    )
    @given(case=strategy)
    def run(case):
        found["examples"][label] += 1
        response = case.call(headers=headers)
        if response.status_code >= 500:
            found["server_errors"].append(f"{label}: {response.status_code}")
        try:
            checks = [not_a_server_error] if label in SERVER_ERRORS_ONLY else CHECKS
            case.validate_response(response, checks=checks, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                found["failures"].setdefault(f"{label}: {failure.title}", str(group)[:2500])

    run()


def fuzz(schema, token, paths):
    """Run every operation; return (operations, examples, 5xx answers, failures as text)."""
    headers = {"Authorization": f"Token {token}"}
    found = {"examples": Counter(), "server_errors": [], "failures": {}, "unsatisfiable": []}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        label = f"{operation.method.upper()} {operation.path}"
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategies = [operation.as_strategy(generation_mode=mode)]
            # With the path fixed, invalid data needs something else to spoil: a query or a body.
            if mode == GenerationMode.POSITIVE or len(operation.query) or len(operation.body):
                strategies += [
                    operation.as_strategy(generation_mode=mode, path_parameters=known)
                    for known in known_parameters(operation, paths)
                ]
            try:
                examine(label, st.one_of(strategies), headers, found)
            except Unsatisfiable:  # nothing of this operation can be made invalid (no parameters)
                found["unsatisfiable"].append(f"{label} ({mode.value})")
    return operations, sum(found["examples"].values()), found["server_errors"], found["failures"]


@pytest.mark.parametrize("persona", ["office", "reporter"])
def test_the_api_answers_made_up_requests_without_server_errors_and_as_its_schema_says(
    wsgi_app, data, persona, capsys
):
    schema = schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", wsgi_app, headers={"Authorization": f"Token {data['tokens'][persona]}"}
    )
    started = time.monotonic()
    operations, examples, server_errors, failures = fuzz(schema, data["tokens"][persona], data["paths"])
    seconds = time.monotonic() - started
    with capsys.disabled():
        print(
            f"\nAPI fuzzing as {persona}: {operations} operations, {examples} examples, "
            f"{len(server_errors)} server errors, {len(failures)} failed checks, {seconds:.0f} s"
        )
    assert operations >= 30
    assert not server_errors and not failures, "\n".join(
        ["server errors:", *server_errors, "", "failures:", *failures, "", *failures.values()]
    )
