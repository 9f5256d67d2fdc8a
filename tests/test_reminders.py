"""Deadline reminders: units that have not reported hear about it, each reminder goes once."""

import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from portal.celery import app
from tasks.choices import NotificationKind, PeriodState, ReminderKind, SubmissionStatus
from tasks.models import DeadlineExtension, Notification, Period, Plan, ReminderLog, Submission
from tasks.services import generate_periods
from tasks.tasks import send_deadline_reminders
from tests.conftest import make_user
from units.choices import Role
from units.models import Unit

DAY = datetime.timedelta(days=1)


@pytest.fixture
def period(db):
    """2024 Q2, open for reporting; every other period of the plan stays planned."""
    generate_periods(Plan.objects.get())
    period = Period.objects.get(year=2024, quarter=2)
    period.state = PeriodState.OPEN
    period.save(update_fields=["state"])
    return period


@pytest.fixture
def jyt_user(db):
    """An approver of 省教育厅 with an e-mail address."""
    return make_user("jyt-approver", Role.APPROVER, "jyt", email="jyt@example.cn")


@pytest.fixture
def kx_user(db):
    """A reporter of 省科协 with an e-mail address."""
    return make_user("kx-reporter", Role.REPORTER, "kx", email="kx@example.cn")


@pytest.fixture
def office_user(db):
    return make_user("office", Role.OFFICE, email="office@example.cn")


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run the task for a day and deliver what it leaves for after commit (the e-mails)."""

    def run(day):
        with django_capture_on_commit_callbacks(execute=True):
            return send_deadline_reminders(day.isoformat())

    return run


def reminders_to(user):
    return list(Notification.objects.filter(user=user, kind=NotificationKind.REMINDER))


def mail_to(address):
    return [message for message in mail.outbox if address in message.to]


def submit(unit_code, period, status=SubmissionStatus.SUBMITTED):
    return Submission.objects.create(unit=Unit.objects.get(code=unit_code), period=period, status=status)


@pytest.mark.parametrize(
    ("days_before", "kind", "wording"),
    [
        (7, ReminderKind.WEEK_BEFORE, "将于"),
        (1, ReminderKind.DAY_BEFORE, "将于"),
        (-1, ReminderKind.DAY_AFTER, "逾期"),
    ],
)
def test_a_unit_without_a_submission_is_reminded_a_week_and_a_day_before_and_the_day_after(
    period, jyt_user, run, days_before, kind, wording
):
    summary = run(period.deadline - days_before * DAY)

    (notification,) = reminders_to(jyt_user)
    assert "2024年第2季度" in notification.message
    assert "2024年7月10日" in notification.message
    assert wording in notification.message
    (message,) = mail_to("jyt@example.cn")
    assert message.body == notification.message
    active_units = Unit.objects.active().count()
    assert ReminderLog.objects.filter(period=period, unit__isnull=False, kind=kind).count() == active_units
    assert summary["reminders"] == active_units


@pytest.mark.parametrize("days_before", [8, 6, 2, 0, -2, -8])
def test_no_reminder_goes_on_other_days(period, jyt_user, run, days_before):
    summary = run(period.deadline - days_before * DAY)

    assert summary == {"reminders": 0, "late_lists": 0}
    assert reminders_to(jyt_user) == []
    assert mail.outbox == []


@pytest.mark.parametrize("status", [SubmissionStatus.SUBMITTED, SubmissionStatus.APPROVED])
def test_a_unit_that_has_submitted_gets_no_reminder(period, jyt_user, kx_user, run, status):
    submit("jyt", period, status)

    for days_before in (7, 1, -1):
        run(period.deadline - days_before * DAY)

    assert reminders_to(jyt_user) == []
    assert mail_to("jyt@example.cn") == []
    assert len(reminders_to(kx_user)) == 3


@pytest.mark.parametrize("status", [SubmissionStatus.DRAFT, SubmissionStatus.RETURNED])
def test_a_unit_whose_form_is_a_draft_or_returned_is_still_reminded(period, jyt_user, run, status):
    submit("jyt", period, status)

    run(period.deadline - DAY)

    assert len(reminders_to(jyt_user)) == 1


def test_a_unit_with_an_extension_is_reminded_against_its_own_deadline(
    period, jyt_user, kx_user, office_user, run
):
    extended = period.deadline + 14 * DAY
    DeadlineExtension.objects.create(
        period=period,
        unit=Unit.objects.get(code="jyt"),
        deadline=extended,
        reason="系统故障",
        granted_by=office_user,
    )

    run(period.deadline - DAY)
    run(period.deadline + DAY)
    assert reminders_to(jyt_user) == []
    assert len(reminders_to(kx_user)) == 2

    run(extended - 7 * DAY)
    run(extended - DAY)
    run(extended + DAY)
    assert [n.message for n in reminders_to(jyt_user)] == [
        "【报送提醒】2024年第2季度进展报送已于2024年7月24日截止，贵单位尚未提交，已列入逾期名单。",
        "【报送提醒】2024年第2季度进展报送将于2024年7月24日截止，贵单位尚未提交。",
        "【报送提醒】2024年第2季度进展报送将于2024年7月24日截止，贵单位尚未提交。",
    ]
    assert len(reminders_to(kx_user)) == 2


def test_running_twice_on_the_same_day_sends_nothing_the_second_time(period, jyt_user, office_user, run):
    day_after = period.deadline + DAY
    first = run(day_after)
    notifications, mails = Notification.objects.count(), len(mail.outbox)

    second = run(day_after)

    assert first == {"reminders": Unit.objects.active().count(), "late_lists": 1}
    assert second == {"reminders": 0, "late_lists": 0}
    assert Notification.objects.count() == notifications
    assert len(mail.outbox) == mails == 2  # jyt's reminder and the office's late list


def test_a_reminder_claimed_by_another_worker_is_not_sent_again(period, jyt_user, run):
    ReminderLog.objects.create(period=period, unit=Unit.objects.get(code="jyt"), kind=ReminderKind.DAY_BEFORE)

    run(period.deadline - DAY)

    assert reminders_to(jyt_user) == []
    assert mail.outbox == []


def test_the_office_gets_one_late_list_naming_the_missing_units(period, office_user, run):
    for unit in Unit.objects.active().exclude(code__in=["jyt", "kx"]):
        submit(unit.code, period)

    run(period.deadline)
    assert Notification.objects.filter(kind=NotificationKind.LATE_LIST).count() == 0

    run(period.deadline + DAY)
    run(period.deadline + DAY)
    run(period.deadline + 2 * DAY)

    (late_list,) = Notification.objects.filter(kind=NotificationKind.LATE_LIST)
    assert late_list.user == office_user
    names = [unit.short_name for unit in Unit.objects.filter(code__in=["jyt", "kx"])]
    assert late_list.message == f"【逾期未报】2024年第2季度：2个单位逾期未报：{'、'.join(names)}。"
    (message,) = mail_to("office@example.cn")
    assert message.body == late_list.message
    assert ReminderLog.objects.filter(period=period, unit=None, kind=ReminderKind.DAY_AFTER).count() == 1


def test_the_late_list_leaves_out_units_whose_extended_deadline_has_not_passed(period, office_user, run):
    for unit in Unit.objects.active().exclude(code__in=["jyt", "kx"]):
        submit(unit.code, period)
    DeadlineExtension.objects.create(
        period=period,
        unit=Unit.objects.get(code="jyt"),
        deadline=period.deadline + 14 * DAY,
        reason="系统故障",
        granted_by=office_user,
    )

    run(period.deadline + DAY)

    (late_list,) = Notification.objects.filter(kind=NotificationKind.LATE_LIST)
    assert f"1个单位逾期未报：{Unit.objects.get(code='kx').short_name}。" in late_list.message


def test_no_late_list_when_every_unit_has_reported(period, office_user, run):
    for unit in Unit.objects.active():
        submit(unit.code, period)

    assert run(period.deadline + DAY) == {"reminders": 0, "late_lists": 0}
    assert Notification.objects.count() == 0


@pytest.mark.parametrize("state", [PeriodState.CLOSED, PeriodState.PLANNED])
def test_a_period_that_is_not_open_gets_no_reminders(period, jyt_user, office_user, run, state):
    Period.objects.filter(pk=period.pk).update(state=state)

    for days_before in (7, 1, -1):
        assert run(period.deadline - days_before * DAY) == {"reminders": 0, "late_lists": 0}

    assert Notification.objects.count() == 0
    assert ReminderLog.objects.count() == 0
    assert mail.outbox == []


def test_inactive_units_are_not_reminded(period, jyt_user, run):
    Unit.objects.filter(code="jyt").update(is_active=False)

    run(period.deadline - DAY)

    assert reminders_to(jyt_user) == []
    assert not ReminderLog.objects.filter(unit__code="jyt").exists()


# The units, the open periods, then for the one open period its extensions, reported units and
# reminders already claimed, inside a savepoint (the test's transaction holds the task's).
QUERIES_WITH_NOTHING_TO_SEND = 7


def test_a_day_with_nothing_to_send_takes_the_same_few_queries_however_many_units_reported(
    period, office_user, django_assert_num_queries
):
    with django_assert_num_queries(QUERIES_WITH_NOTHING_TO_SEND):
        send_deadline_reminders((period.deadline - 3 * DAY).isoformat())

    for unit in Unit.objects.active()[:40]:
        submit(unit.code, period)
        DeadlineExtension.objects.create(
            period=period, unit=unit, deadline=period.deadline + 30 * DAY, reason="-", granted_by=office_user
        )
    with django_assert_num_queries(QUERIES_WITH_NOTHING_TO_SEND):
        send_deadline_reminders((period.deadline - 3 * DAY).isoformat())


def test_a_second_run_on_a_reminder_day_takes_the_same_few_queries(period, django_assert_num_queries):
    send_deadline_reminders((period.deadline - DAY).isoformat())

    with django_assert_num_queries(QUERIES_WITH_NOTHING_TO_SEND):
        send_deadline_reminders((period.deadline - DAY).isoformat())


def test_a_reminder_day_costs_the_same_few_queries_for_each_unit_reminded(period):
    """Claiming and notifying are per unit reminded; everything else is fetched once."""
    units = list(Unit.objects.active())
    for unit in units[3:]:
        submit(unit.code, period)
    for unit in units[:10]:
        make_user(f"{unit.code}-user", Role.REPORTER, unit.code, email=f"{unit.code}@example.cn")

    def queries_for(day, reminded):
        with CaptureQueriesContext(connection) as context:
            assert send_deadline_reminders(day.isoformat())["reminders"] == reminded
        return len(context.captured_queries) - QUERIES_WITH_NOTHING_TO_SEND

    three = queries_for(period.deadline - 7 * DAY, reminded=3)
    Submission.objects.filter(period=period, unit__in=units[3:10]).delete()
    ten = queries_for(period.deadline - DAY, reminded=10)

    per_unit = three // 3
    assert three == 3 * per_unit
    assert ten == 10 * per_unit
    assert per_unit <= 6  # claim (select, savepoint, insert, release), the unit's users, their messages


def test_the_task_is_registered_and_scheduled_hourly_through_the_working_day():
    """From 08:00 to 20:00: a run missed while the broker was down is made up the same day."""
    assert app.conf.beat_schedule["deadline-reminders"]["task"] == "tasks.send_deadline_reminders"
    schedule = app.conf.beat_schedule["deadline-reminders"]["schedule"]
    assert schedule.hour == set(range(8, 21))
    assert schedule.minute == {0}
    assert schedule.day_of_week == set(range(7))
    assert "tasks.send_deadline_reminders" in app.tasks


def test_a_worker_finds_the_task_by_autodiscovery():
    """A fresh process that imports only the Celery app, as ``celery -A portal worker`` does."""
    code = (
        "import django; django.setup(); from portal.celery import app; app.loader.import_default_modules(); "
        "print('tasks.send_deadline_reminders' in app.tasks)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "True"


@pytest.mark.parametrize("unit_code", ["jyt", None])
def test_the_database_refuses_the_same_reminder_twice(period, unit_code):
    """What settles a race between two workers: partial unique constraints, on every database."""
    unit = Unit.objects.get(code=unit_code) if unit_code else None
    ReminderLog.objects.create(period=period, unit=unit, kind=ReminderKind.DAY_AFTER)

    with pytest.raises(IntegrityError), transaction.atomic():
        ReminderLog.objects.create(period=period, unit=unit, kind=ReminderKind.DAY_AFTER)
