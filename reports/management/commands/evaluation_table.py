"""Write docs/evaluation.md: every target's rule, phrase, baseline and a worked example."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import translation

from reports.rollup.evaluation import as_markdown
from tasks.selectors import current_plan


class Command(BaseCommand):
    help = "写出 docs/evaluation.md（目标指标评估口径表）"

    def add_arguments(self, parser):
        parser.add_argument("--output", default=str(Path(settings.BASE_DIR) / "docs" / "evaluation.md"))

    def handle(self, *args, output, **options):
        with translation.override("zh-hans"):
            text = as_markdown(current_plan())
        Path(output).write_text(text, encoding="utf-8")
        self.stdout.write(f"wrote {output}")
