"""manage.py backup: the database and the uploaded files in one folder, with a manifest.

    python manage.py backup [--output DIR]          (make backup [OUTPUT=DIR])

writes ``DIR/<YYYYmmdd-HHMMSS>/`` (``DIR`` defaults to ``DATA_DIR/backups``, i.e. ``var/backups``):

- ``database.dump``: PostgreSQL, ``pg_dump --format=custom`` (needs ``pg_dump`` on PATH, from the
  postgresql-client package, no older than the server), or ``database.sqlite3``: SQLite, a
  consistent copy made with SQLite's online backup API;
- ``media.tar.gz``: everything under ``MEDIA_ROOT`` (evidence files, generated PDF reports);
- ``manifest.json``: when, which database, the row counts of the key tables, the applied
  migrations, and the size and SHA-256 of each file; signed with this instance's SECRET_KEY
  (``instance`` and ``signature``), so that ``restore`` refuses a backup made by another
  instance, or a manifest recomputed after the files were changed, unless told otherwise.

The backup holds everything, API token keys and sessions included: the folder is readable by
its owner only (0700, files 0600).

On PostgreSQL the row counts and the dump come from one snapshot (``pg_export_snapshot``), so the
manifest describes exactly what the dump holds. The folder is written as ``<name>.partial`` and
renamed when complete: a backup that was interrupted never looks like a good one.

``manage.py restore`` (``restore.py``) reads the manifest and checks every file before it
changes anything. Messages are in Chinese and English: an operator's terminal may show either.
"""

import datetime
import hashlib
import hmac
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from contextlib import contextmanager
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django.utils.crypto import salted_hmac

MANIFEST = "manifest.json"
FORMAT = 1
PG_DUMP_FILE = "database.dump"
SQLITE_FILE = "database.sqlite3"
MEDIA_FILE = "media.tar.gz"

# The tables whose row counts a restore must reproduce: (manifest key, model, label).
KEY_TABLES = [
    ("units", "units.Unit", "单位 units"),
    ("users", settings.AUTH_USER_MODEL, "用户 users"),
    ("submissions", "tasks.Submission", "报送表 submissions"),
    ("measure_lines", "tasks.MeasureLine", "措施进展 measure lines"),
    ("figures", "targets.TargetFigure", "指标数据 figures"),
    ("region_figures", "targets.RegionFigure", "地区科普经费 region figures"),
    ("evidence", "tasks.Evidence", "佐证材料 evidence"),
    ("report_runs", "reports.ReportRun", "评估报告 report runs"),
    ("rollup_runs", "reports.RollupRun", "汇总任务 roll-up runs"),
]


def require_tool(name: str) -> str:
    """The path of a PostgreSQL client program, or a message saying which package brings it."""
    found = shutil.which(name)
    if found is None:
        raise CommandError(
            f"找不到 {name}：请安装 PostgreSQL 客户端（Debian/Ubuntu：apt-get install postgresql-client，"
            f"版本不低于数据库服务器），并确认 {name} 在 PATH 中。"
            f" ({name} not found on PATH: install the postgresql-client package, the same major version"
            " as the server or newer.)"
        )
    return found


def libpq_environment(settings_dict: dict) -> dict:
    """The environment that points pg_dump / pg_restore at Django's database.

    The password travels in PGPASSWORD, never on the command line (where ``ps`` would show it).
    """
    env = dict(os.environ)
    for variable, key in (
        ("PGHOST", "HOST"),
        ("PGPORT", "PORT"),
        ("PGUSER", "USER"),
        ("PGPASSWORD", "PASSWORD"),
        ("PGDATABASE", "NAME"),
    ):
        value = settings_dict.get(key)
        if value:
            env[variable] = str(value)
        else:
            env.pop(variable, None)
    options = settings_dict.get("OPTIONS") or {}
    for variable, key in (("PGSSLMODE", "sslmode"), ("PGSSLROOTCERT", "sslrootcert")):
        if options.get(key):
            env[variable] = str(options[key])
    return env


def run_client(args: list, env: dict, what: str, what_en: str) -> None:
    """Run pg_dump / pg_restore; a failure stops the command with the program's own message."""
    result = subprocess.run(args, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise CommandError(
            f"{what}失败（退出码 {result.returncode}）。 ({what_en} failed, exit code {result.returncode}.)\n"
            + (result.stderr or result.stdout).strip()
        )


def existing_tables() -> set:
    with connection.cursor() as cursor:
        return set(connection.introspection.table_names(cursor))


def row_counts() -> dict:
    """{key: rows} of the key tables in the configured database; None for a table that is absent."""
    tables = existing_tables()
    counts = {}
    with connection.cursor() as cursor:
        for key, label, _text in KEY_TABLES:
            table = apps.get_model(label)._meta.db_table
            if table not in tables:
                counts[key] = None
                continue
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[key] = cursor.fetchone()[0]
    return counts


def applied_migrations() -> dict:
    """{app: [migration names]} applied in the configured database (empty when it has none)."""
    if MigrationRecorder.Migration._meta.db_table not in existing_tables():
        return {}
    applied = {}
    for app_label, name in sorted(MigrationRecorder(connection).applied_migrations()):
        applied.setdefault(app_label, []).append(name)
    return applied


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def media_files(root: Path):
    """Regular files under ``root`` (symbolic links are not followed), sorted."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def instance_id() -> str:
    """This instance, as its backups name it: derived from SECRET_KEY, which it does not reveal."""
    return salted_hmac("portal.backup.instance", "instance", algorithm="sha256").hexdigest()[:16]


def manifest_signature(manifest: dict) -> str:
    """HMAC (SECRET_KEY) of everything in the manifest but the signature itself."""
    unsigned = {key: value for key, value in manifest.items() if key != "signature"}
    canonical = json.dumps(unsigned, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return salted_hmac("portal.backup.manifest", canonical, algorithm="sha256").hexdigest()


def sign_manifest(manifest: dict) -> dict:
    manifest = {**manifest, "instance": instance_id()}
    manifest["signature"] = manifest_signature(manifest)
    return manifest


def signed_by_this_instance(manifest: dict) -> bool:
    return hmac.compare_digest(str(manifest.get("signature") or ""), manifest_signature(manifest))


def describe_counts(counts: dict) -> list:
    return [f"  {text}: {'—' if counts.get(key) is None else counts[key]}" for key, _m, text in KEY_TABLES]


class Command(BaseCommand):
    help = (
        "备份数据库（PostgreSQL 用 pg_dump，SQLite 用在线备份）和 MEDIA_ROOT 下的文件（佐证材料、评估报告），"
        "写入带时间戳的文件夹，附 manifest.json（行数、校验值）。用 manage.py restore 恢复。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            default=str(Path(settings.DATA_DIR) / "backups"),
            help="备份存放的目录，其中新建 <YYYYmmdd-HHMMSS> 文件夹（默认 DATA_DIR/backups）",
        )

    def handle(self, *args, **options):
        vendor = connection.vendor
        if vendor not in ("postgresql", "sqlite"):
            raise CommandError(f"不支持的数据库类型：{vendor}。 (Unsupported database: {vendor}.)")
        started = timezone.localtime()
        output = Path(options["output"])
        if not output.exists():
            output.mkdir(parents=True, mode=0o700)
        folder = self._new_folder(output, started)
        partial = folder.with_name(folder.name + ".partial")
        partial.mkdir(mode=0o700)
        partial.chmod(0o700)  # whatever the umask: token keys and sessions are in there
        umask = os.umask(0o077)  # pg_dump, tar and the manifest: owner-only files
        try:
            if vendor == "postgresql":
                database_file, counts = self._dump_postgresql(partial / PG_DUMP_FILE)
            else:
                database_file, counts = self._copy_sqlite(partial / SQLITE_FILE)
            media = self._archive_media(partial / MEDIA_FILE)
            files = {
                name: {"bytes": (partial / name).stat().st_size, "sha256": sha256_of(partial / name)}
                for name in (database_file, MEDIA_FILE)
            }
            manifest = sign_manifest(
                {
                    "format": FORMAT,
                    "created_at": started.isoformat(timespec="seconds"),
                    "database": {
                        "vendor": vendor,
                        "name": str(connection.settings_dict["NAME"]),
                        "file": database_file,
                    },
                    "media": {"file": MEDIA_FILE, **media},
                    "counts": counts,
                    "migrations": applied_migrations(),
                    "files": files,
                }
            )
            (partial / MANIFEST).write_text(
                json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
            )
            for path in partial.iterdir():
                path.chmod(0o600)
            partial.rename(folder)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        finally:
            os.umask(umask)
        self.stdout.write("\n".join(describe_counts(counts)))
        self.stdout.write(
            f"  媒体文件 media files: {media['files']}（{media['bytes']} 字节 bytes）\n"
            + self.style.SUCCESS(f"备份完成 Backup written: {folder}")
        )

    @staticmethod
    def _new_folder(parent: Path, when: datetime.datetime) -> Path:
        stamp = when.strftime("%Y%m%d-%H%M%S")
        folder = parent / stamp
        n = 1
        while folder.exists() or folder.with_name(folder.name + ".partial").exists():
            n += 1
            folder = parent / f"{stamp}-{n}"
        return folder

    def _dump_postgresql(self, path: Path):
        pg_dump = require_tool("pg_dump")
        env = libpq_environment(connection.settings_dict)
        command = [pg_dump, "--format=custom", "--no-password", f"--file={path}"]
        with self._snapshot() as snapshot:
            counts = row_counts()
            if snapshot:
                command.append(f"--snapshot={snapshot}")
            run_client(command, env, "数据库备份", "pg_dump")
        return path.name, counts

    @contextmanager
    def _snapshot(self):
        """A read-only REPEATABLE READ transaction whose snapshot pg_dump shares.

        Inside someone else's transaction (a test, a shell) there is no fresh snapshot to export:
        the counts and the dump are then taken one after the other.
        """
        if connection.in_atomic_block:
            yield None
            return
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SELECT pg_export_snapshot()")
                yield cursor.fetchone()[0]

    def _copy_sqlite(self, path: Path):
        counts = row_counts()
        target = sqlite3.connect(path)
        try:
            if connection.is_in_memory_db():
                # Only this connection can read an in-memory database. SQLite's backup waits
                # forever for the connection's own open write transaction: refuse instead.
                if connection.in_atomic_block:
                    raise CommandError(
                        "不能在未提交的事务中备份内存数据库。 (Cannot back up an in-memory database"
                        " inside an open transaction.)"
                    )
                connection.ensure_connection()
                connection.connection.backup(target)
            else:
                # A connection of its own: the copy is consistent even while the portal writes.
                source = sqlite3.connect(str(connection.settings_dict["NAME"]))
                try:
                    source.backup(target)
                finally:
                    source.close()
        finally:
            target.close()
        return path.name, counts

    @staticmethod
    def _archive_media(path: Path) -> dict:
        root = Path(settings.MEDIA_ROOT)
        count = size = 0
        with tarfile.open(path, "w:gz") as archive:
            for file in media_files(root):
                archive.add(file, arcname=file.relative_to(root).as_posix(), recursive=False)
                count += 1
                size += file.stat().st_size
        return {"files": count, "bytes": size}
