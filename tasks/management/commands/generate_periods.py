"""manage.py generate_periods: every quarter of the plan (idempotent)."""

from django.core.management.base import BaseCommand, CommandError

from tasks.selectors import current_plan
from tasks.services import DEADLINE_DAYS, generate_periods


class Command(BaseCommand):
    help = "生成实施方案各季度的报送期（2021年基期及2022年第1季度至2025年第4季度）；重复运行不会重复生成。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--deadline-days", type=int, default=DEADLINE_DAYS, help="季度结束后多少天截止（默认10天）"
        )

    def handle(self, *args, **options):
        plan = current_plan()
        if plan is None:
            raise CommandError("尚未载入实施方案，请先运行 python manage.py load_plan。")
        if options["deadline_days"] < 0:
            raise CommandError("--deadline-days 不能为负数。")
        created = generate_periods(plan, deadline_days=options["deadline_days"])
        self.stdout.write(f"新增报送期 {created} 个。")
