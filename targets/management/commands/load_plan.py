"""manage.py load_plan: load or update the plan from fixtures/ (idempotent)."""

from django.core.management.base import BaseCommand, CommandError

from portal import page_cache
from targets.loader import DEFAULT_PLAN_FILE, PlanFixtureError, load_plan


class Command(BaseCommand):
    help = "载入实施方案（行动、措施、单位、分工、目标指标、阶段节点）；重复运行不会产生任何更改。"

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(DEFAULT_PLAN_FILE), help="方案数据文件（JSON）")

    def handle(self, *args, **options):
        try:
            self.write(options)
        finally:  # its bulk writes send no post_save: the workflow pages are computed again
            page_cache.workflow_changed()

    def write(self, options):
        try:
            report = load_plan(options["file"])
        except PlanFixtureError as exc:
            raise CommandError(str(exc)) from exc
        if not report.changed:
            self.stdout.write(
                "实施方案数据已是最新，未做任何更改。 (The plan is already loaded; nothing changed.)"
            )
            return
        for line in report.lines():
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS("实施方案数据已载入。 (Plan loaded.)"))
