"""manage.py seed_demo: demo accounts and five years of demo progress data for trying the portal.

    python manage.py seed_demo [--password P] [--seed N] [--scale N] [--no-progress]
                               [--reset-progress] [--units CODE,CODE]

Accounts: admin, office, viewer, and <unit code>-reporter / -approver for every real unit.
Progress: see ``reports.management.demo``; a unit that already has forms is left alone, so running the
command again changes nothing. ``--scale N`` adds 101 × (N − 1) synthetic county governments
(44 + 101 × 29 ≈ 3,000 county units at 30×) with their own demo data, for benchmarks.
"""

import secrets
import zlib

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from portal import page_cache
from reports.management import demo
from tasks.choices import SubmissionStatus
from units.choices import Role
from units.models import Membership, Unit


class Command(BaseCommand):
    help = "创建演示账号（admin、office、viewer，以及每个单位的 <单位代码>-reporter 和 <单位代码>-approver）和演示进度数据。"

    def add_arguments(self, parser):
        parser.add_argument("--password", help="所有演示账号的密码（不指定则随机生成并打印）")
        parser.add_argument(
            "--seed", type=int, default=demo.DEFAULT_SEED, help="随机数种子：同一种子生成相同的数据"
        )
        parser.add_argument(
            "--scale",
            type=int,
            default=1,
            help="压力测试规模：N>1 时另建 101×(N−1) 个模拟县级单位及其数据（30 倍约 3000 个县级单位）",
        )
        parser.add_argument("--no-progress", action="store_true", help="只创建演示账号，不生成进度数据")
        parser.add_argument(
            "--reset-progress", action="store_true", help="删除已有报送数据后重新生成（不改动实施方案）"
        )
        parser.add_argument("--units", help="只为这些单位生成数据（以逗号分隔的单位代码）")

    def handle(self, *args, **options):
        try:
            self.write(options)
        finally:  # its bulk writes send no post_save: the workflow pages are computed again
            page_cache.workflow_changed()

    def write(self, options):
        if not Unit.objects.exists():
            raise CommandError(_("尚未载入实施方案，请先运行 python manage.py load_plan。"))
        if options["scale"] < 1:
            raise CommandError(_("--scale 必须是不小于 1 的整数。"))
        codes = None
        if options["units"]:
            codes = [c.strip() for c in options["units"].split(",") if c.strip()]
            unknown = sorted(
                set(codes) - set(Unit.objects.filter(code__in=codes).values_list("code", flat=True))
            )
            if unknown:
                raise CommandError(_("没有这些单位代码：%(codes)s") % {"codes": "，".join(unknown)})

        password = options["password"] or secrets.token_urlsafe(9)
        created = self.create_accounts(password)
        self.stdout.write(
            f"演示账号：新建 {created} 个，共 {Membership.objects.count() + 1} 个，密码均为：{password}"
        )
        self.stdout.write("  admin（系统管理员） office（省纲要办） viewer（查阅人员）")
        self.stdout.write(
            "  jyt-reporter / jyt-approver（省教育厅填报员 / 审核员），其他单位同理，如 kx-reporter、xiningshi-reporter"
        )
        if options["no_progress"]:
            return

        added = demo.ensure_synthetic_units(options["scale"])
        if added:
            self.stdout.write(_("模拟县级单位：新建 %(n)s 个。") % {"n": added})
        result = demo.build_demo_progress(
            seed=options["seed"],
            unit_codes=codes,
            reset=options["reset_progress"],
            log=self.progress if options["scale"] > 1 else None,
        )
        assessments = demo.build_demo_self_assessments(seed=options["seed"], reset=options["reset_progress"])
        if assessments:
            self.stdout.write(
                _("总结评估单位自评：已通过 %(approved)s 份，待审核 %(submitted)s 份，草稿 %(draft)s 份。")
                % {
                    "approved": assessments.get(SubmissionStatus.APPROVED, 0),
                    "submitted": assessments.get(SubmissionStatus.SUBMITTED, 0),
                    "draft": assessments.get(SubmissionStatus.DRAFT, 0),
                }
            )
        if not result.created and not result.missing:
            self.stdout.write(_("演示数据已存在，未做更改。（如需重新生成，请加 --reset-progress）"))
            return
        counts = result.submissions
        self.stdout.write(
            _(
                "演示进度数据：%(units)s 个单位，报送表 %(total)s 张（已通过 %(approved)s，已提交 %(submitted)s，"
                "已退回 %(returned)s，草稿 %(draft)s；逾期提交 %(late)s，未报 %(missing)s），"
                "措施进展 %(lines)s 行，指标数据 %(figures)s 条，地区科普经费 %(regions)s 条，"
                "操作记录 %(events)s 条，历史记录 %(history)s 条，消息提醒 %(notifications)s 条；"
                "用时 %(seconds).1f 秒。"
            )
            % {
                "units": result.units,
                "total": result.created,
                "approved": counts[SubmissionStatus.APPROVED],
                "submitted": counts[SubmissionStatus.SUBMITTED],
                "returned": counts[SubmissionStatus.RETURNED],
                "draft": counts[SubmissionStatus.DRAFT],
                "late": result.late,
                "missing": result.missing,
                "lines": result.lines,
                "figures": result.figures,
                "regions": result.region_figures,
                "events": result.events,
                "history": result.history,
                "notifications": result.notifications,
                "seconds": result.seconds,
            }
        )
        if result.skipped_units:
            self.stdout.write(_("已有报送数据的 %(n)s 个单位未做更改。") % {"n": result.skipped_units})
        self.request_rollup()

    def progress(self, done, total):
        self.stdout.write(_("  已生成 %(done)s / %(total)s 个单位") % {"done": done, "total": total})

    def request_rollup(self):
        """The bulk rows bypass the approval signal, so ask for one roll-up of the whole plan."""
        from reports.choices import RunTrigger
        from reports.rollup.services import request_rollup
        from tasks.selectors import current_plan

        request_rollup(current_plan(), trigger=RunTrigger.MANUAL)
        self.stdout.write(_("已请求汇总全部报送期（工作看板稍后更新）。"))

    @transaction.atomic
    def create_accounts(self, password):
        """The demo log-ins, each with a person's name (the same on every run)."""
        User = get_user_model()
        hashed = make_password(password)  # hash once: 160+ accounts with one PBKDF2 run, not one each
        wanted = [("admin", None, None), ("office", None, Role.OFFICE), ("viewer", None, Role.VIEWER)]
        for unit in Unit.objects.active():
            if demo.is_synthetic(unit.code):  # benchmark units (--scale) get no accounts
                continue
            wanted.append((f"{unit.code}-reporter", unit, Role.REPORTER))
            wanted.append((f"{unit.code}-approver", unit, Role.APPROVER))
        existing = {u.username: u for u in User.objects.filter(username__in=[w[0] for w in wanted])}
        created = 0
        for username, unit, role in wanted:
            user = existing.get(username)
            if user is None:
                user = User(username=username)
                created += 1
            user.password = hashed
            user.is_active = True
            if username != "admin" and not user.get_full_name():
                user.first_name = demo_person(username)  # pages show people's names, not log-ins
            if username == "admin":
                user.is_staff = user.is_superuser = True
            user.save()
            if role is not None:
                Membership.objects.update_or_create(user=user, defaults={"unit": unit, "role": role})
        return created


# Demo people: common surnames and given names in Qinghai (Han, Tibetan, Hui), combined by a
# checksum of the log-in so every run gives everyone the same name.
SURNAMES = "王李张刘陈杨赵马韩周吴孙朱胡郭何"
GIVEN_NAMES = (
    "海燕",
    "建国",
    "晓东",
    "丽娟",
    "志强",
    "春梅",
    "文博",
    "玉兰",
    "国栋",
    "雪莲",
    "德明",
    "秀英",
    "永红",
    "明远",
)
TIBETAN_NAMES = ("卓玛", "才让", "扎西", "拉毛", "多杰", "措吉")


def demo_person(username: str) -> str:
    """A demo user's full name: 马海燕, or a Tibetan name such as 才让卓玛 for one user in four."""
    n = zlib.crc32(username.encode())
    if n % 4 == 0:
        first = n % len(TIBETAN_NAMES)
        second = (first + 1 + (n // 7) % (len(TIBETAN_NAMES) - 1)) % len(TIBETAN_NAMES)  # never 卓玛卓玛
        return TIBETAN_NAMES[first] + TIBETAN_NAMES[second]
    return SURNAMES[n % len(SURNAMES)] + GIVEN_NAMES[(n // 16) % len(GIVEN_NAMES)]
