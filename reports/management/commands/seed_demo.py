"""manage.py seed_demo: demo accounts (and, later, demo progress data) for trying the portal."""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from units.choices import Role
from units.models import Membership, Unit


class Command(BaseCommand):
    help = "创建演示账号：admin、office、viewer，以及每个单位的 <单位代码>-reporter 和 <单位代码>-approver。"

    def add_arguments(self, parser):
        parser.add_argument("--password", help="所有演示账号的密码（不指定则随机生成并打印）")

    def handle(self, *args, **options):
        if not Unit.objects.exists():
            raise CommandError("尚未载入实施方案，请先运行 python manage.py load_plan。")
        password = options["password"] or secrets.token_urlsafe(9)
        created = self.create_accounts(password)
        self.stdout.write(
            f"演示账号：新建 {created} 个，共 {Membership.objects.count() + 1} 个，密码均为：{password}"
        )
        self.stdout.write("  admin（系统管理员） office（省纲要办） viewer（查阅人员）")
        self.stdout.write(
            "  jyt-reporter / jyt-approver（省教育厅填报员 / 审核员），其他单位同理，如 kx-reporter、xiningshi-reporter"
        )

    @transaction.atomic
    def create_accounts(self, password):
        User = get_user_model()
        hashed = make_password(password)  # hash once: 160+ accounts with one PBKDF2 run, not one each
        wanted = [("admin", None, None), ("office", None, Role.OFFICE), ("viewer", None, Role.VIEWER)]
        for unit in Unit.objects.active():
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
            if username == "admin":
                user.is_staff = user.is_superuser = True
            user.save()
            if role is not None:
                Membership.objects.update_or_create(user=user, defaults={"unit": unit, "role": role})
        return created
