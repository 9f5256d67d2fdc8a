"""manage.py sync_directory: the daily check of directory accounts, run now (beat runs it at 03:10)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from units.ldap import sync_directory


class Command(BaseCommand):
    help = "核对所有目录账号：姓名、邮箱、单位和角色与 LDAP 目录一致，目录中已删除或停用的账号停用。"

    def handle(self, *args, **options):
        if not settings.LDAP_URLS:
            raise CommandError("未配置 LDAP 目录（LDAP_URL 为空），无需核对。 (LDAP_URL is not set.)")
        counts = sync_directory()
        if "error" in counts:
            raise CommandError(f"目录核对未完成，未做任何更改：{counts['error']}")
        self.stdout.write(
            f"核对 {counts['checked']} 个目录账号：单位或角色变更 {counts['changed']} 个，"
            f"停用 {counts['disabled']} 个，未对应单位和角色 {counts['unmapped']} 个。"
        )
