"""manage.py restore PATH [--yes]: put back a backup written by ``manage.py backup``.

    python manage.py restore var/backups/20261128-023000 [--yes]    (make restore BACKUP=… [YES=1])

1. Reads ``PATH/manifest.json``, checks that this instance signed it (its SECRET_KEY; a backup
   of another instance, or a manifest recomputed after a file was changed, is refused unless
   ``--force-other-instance``), checks the size and SHA-256 of every file it lists, and that the
   media archive holds only plain files and folders with relative paths inside MEDIA_ROOT: a
   damaged or altered backup is refused before anything changes.
2. Without ``--yes``, refuses a target that already holds data (rows in the key tables, or files
   in ``MEDIA_ROOT``): a restore replaces it.
3. Restores the database: PostgreSQL with ``pg_restore --clean --if-exists --no-owner`` into the
   configured database (``DATABASE_URL``), in one transaction, so a failed restore changes
   nothing; SQLite by copying the backup over the configured database with SQLite's backup API.
4. Unpacks the media archive into ``MEDIA_ROOT`` (files of the same name are replaced; others
   are left alone).
5. Prints the row counts beside the manifest's and fails when they differ; lists files the
   database names that ``MEDIA_ROOT`` lacks; says when ``manage.py migrate`` is needed.

Stop the web, worker and beat processes first, so that nothing writes while the data is replaced.
"""

import json
import sqlite3
import tarfile
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from portal import page_cache
from portal.management.commands.backup import (
    FORMAT,
    KEY_TABLES,
    MANIFEST,
    describe_counts,
    existing_tables,
    instance_id,
    libpq_environment,
    media_files,
    require_tool,
    row_counts,
    run_client,
    sha256_of,
    signed_by_this_instance,
)

VENDOR_NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
# Tables and columns that name files under MEDIA_ROOT.
FILE_COLUMNS = [("tasks.Evidence", "file"), ("reports.ReportRun", "file")]


def read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    if not path.is_file():
        raise CommandError(
            f"找不到 {path}：这不是 manage.py backup 生成的备份文件夹。"
            f" ({path} not found: not a folder written by manage.py backup.)"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CommandError(
            f"{path} 无法解析，备份可能已损坏：{exc} ({path} is not valid JSON: the backup may be damaged.)"
        ) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CommandError(
            f"{path} 的格式不受支持（应为 format {FORMAT}）。 ({path}: unsupported manifest format.)"
        )
    return manifest


def verify_files(folder: Path, manifest: dict) -> None:
    """Every file the manifest lists is there, with its size and SHA-256; nothing else is trusted."""
    files = manifest.get("files") or {}
    needed = {manifest.get("database", {}).get("file"), manifest.get("media", {}).get("file")}
    if None in needed or not needed <= set(files):
        raise CommandError(
            "manifest.json 缺少数据库或媒体文件的记录，备份不完整，未做任何恢复。"
            " (manifest.json does not list the database and media files: incomplete backup; nothing restored.)"
        )
    for name, expected in sorted(files.items()):
        path = folder / name
        if Path(name).name != name or not path.is_file():
            raise CommandError(
                f"备份文件 {name} 不存在，备份不完整，未做任何恢复。"
                f" (Backup file {name} is missing: incomplete backup; nothing restored.)"
            )
        if path.stat().st_size != expected.get("bytes") or sha256_of(path) != expected.get("sha256"):
            raise CommandError(
                f"备份文件 {name} 的校验值（SHA-256）与 manifest.json 不符：备份已损坏或被改动，未做任何恢复。"
                f" (Checksum mismatch for {name}: the backup is damaged or was altered; nothing restored.)"
            )


def check_instance(manifest: dict, *, force: bool) -> None:
    """The backup was made, and its manifest written, by this instance (its SECRET_KEY)."""
    if force or signed_by_this_instance(manifest):
        return
    if manifest.get("instance") not in (None, instance_id()):
        raise CommandError(
            "这份备份来自另一个平台实例（SECRET_KEY 不同），未做任何恢复。确需把它恢复到本实例时"
            "（如迁移服务器），请加 --force-other-instance 重新运行。"
            " (This backup was made by another instance of the portal (another SECRET_KEY); nothing"
            " restored. Run again with --force-other-instance if you really mean to move it here.)"
        )
    raise CommandError(
        "manifest.json 的签名无效：备份清单被改动过，或备份不是本实例生成的，未做任何恢复。"
        "确认备份可信后可加 --force-other-instance 重新运行。"
        " (manifest.json is not signed by this instance: it was altered, or another instance wrote"
        " it; nothing restored. Run again with --force-other-instance only for a backup you trust.)"
    )


def check_archive(archive: Path, root: Path) -> None:
    """Refuse absolute paths, ``..``, links and devices before anything is unpacked."""
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            # tarfile's data filter would quietly strip a leading "/": an absolute path is refused.
            if (
                member.name.startswith(("/", "\\"))
                or Path(member.name).is_absolute()
                or ":" in member.name[:3]
            ):
                raise CommandError(
                    f"媒体归档中的 {member.name} 是绝对路径，未做任何恢复。"
                    f" ({member.name} in the media archive is an absolute path; nothing restored.)"
                )
            if not (member.isfile() or member.isdir()):
                raise CommandError(
                    f"媒体归档中的 {member.name} 不是普通文件，未做任何恢复。"
                    f" ({member.name} in the media archive is not a plain file; nothing restored.)"
                )
            try:
                tarfile.data_filter(member, str(root))
            except tarfile.FilterError as exc:
                raise CommandError(
                    f"媒体归档中的 {member.name} 路径不安全，未做任何恢复。"
                    f" ({member.name} in the media archive has an unsafe path; nothing restored.) {exc}"
                ) from exc


class Command(BaseCommand):
    help = (
        "从 manage.py backup 生成的备份文件夹恢复数据库和 MEDIA_ROOT 下的文件：先核对校验值；"
        "目标已有数据时需加 --yes；恢复后核对各表行数。请先停止 web、worker 和 beat。"
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="备份文件夹（含 manifest.json），如 var/backups/20261128-023000")
        parser.add_argument(
            "--yes", action="store_true", help="确认用备份替换目标数据库和媒体文件中已有的数据"
        )
        parser.add_argument(
            "--force-other-instance",
            action="store_true",
            help="恢复另一个实例（SECRET_KEY 不同）生成的备份，如迁移服务器时",
        )

    def handle(self, *args, **options):
        folder = Path(options["path"])
        if folder.name == MANIFEST:
            folder = folder.parent
        manifest = read_manifest(folder)
        check_instance(manifest, force=options["force_other_instance"])
        verify_files(folder, manifest)
        media_root = Path(settings.MEDIA_ROOT)
        archive = folder / manifest["media"]["file"]
        check_archive(archive, media_root)

        vendor = manifest["database"].get("vendor")
        if vendor != connection.vendor:
            raise CommandError(
                f"这份备份来自 {VENDOR_NAMES.get(vendor, vendor)} 数据库，而当前配置的数据库是"
                f" {VENDOR_NAMES.get(connection.vendor, connection.vendor)}（见 DATABASE_URL），未做任何恢复。"
                f" (The backup is of a {vendor} database but the configured one is {connection.vendor};"
                " nothing restored.)"
            )
        if not options["yes"]:
            self._refuse_if_not_empty(media_root)

        database_file = folder / manifest["database"]["file"]
        if vendor == "postgresql":
            self._restore_postgresql(database_file)
        else:
            self._restore_sqlite(database_file)
        for scope in (page_cache.ROLLUP, page_cache.WORKFLOW):  # no page cached before the restore is served
            page_cache.bump(scope)
        media_root.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(media_root, filter="data")
        self.stdout.write(f"已恢复数据库和媒体文件。 (Database and media files restored from {folder}.)")
        self._report(manifest, media_root)

    def _refuse_if_not_empty(self, media_root: Path) -> None:
        counts = {key: rows for key, rows in row_counts().items() if rows}
        files = len(media_files(media_root))
        if not counts and not files:
            return
        found = [text.split(" ")[0] + f" {counts[key]}" for key, _m, text in KEY_TABLES if key in counts]
        if files:
            found.append(f"媒体文件 {files}")
        raise CommandError(
            f"目标数据库或 MEDIA_ROOT 中已有数据（{'，'.join(found)}）。恢复会用备份替换这些数据；"
            "确认无误后请加 --yes 重新运行（make restore BACKUP=… YES=1）。未做任何更改。"
            " (The target database or MEDIA_ROOT already holds data; a restore replaces it."
            " Run again with --yes to confirm. Nothing was changed.)"
        )

    def _restore_postgresql(self, dump: Path) -> None:
        pg_restore = require_tool("pg_restore")
        env = libpq_environment(connection.settings_dict)
        connection.close()  # our own session must hold no lock on the tables being replaced
        run_client(
            [
                pg_restore,
                "--clean",
                "--if-exists",
                "--no-owner",
                # GRANTs name roles of the old server, which the new one may not have.
                "--no-privileges",
                "--single-transaction",
                "--no-password",
                f"--dbname={connection.settings_dict['NAME']}",
                str(dump),
            ],
            env,
            "数据库恢复",
            "pg_restore",
        )

    def _restore_sqlite(self, copy: Path) -> None:
        if connection.in_atomic_block:
            raise CommandError(
                "不能在未提交的事务中恢复 SQLite 数据库。 (Cannot restore SQLite inside an open transaction.)"
            )
        source = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
        try:
            connection.ensure_connection()
            source.backup(connection.connection)
        finally:
            source.close()

    def _report(self, manifest: dict, media_root: Path) -> None:
        expected = manifest.get("counts") or {}
        found = row_counts()
        differ = [key for key, _m, _t in KEY_TABLES if key in expected and expected[key] != found.get(key)]
        self.stdout.write("行数 Row counts (恢复后 restored / 备份时 in the backup):")
        for line, (key, _m, _t) in zip(describe_counts(found), KEY_TABLES, strict=True):
            mark = "" if key not in expected else (" ✓" if key not in differ else f" ✗ ≠ {expected[key]}")
            self.stdout.write(f"{line}{mark}")

        missing = self._missing_files(media_root)
        if missing:
            shown = "、".join(missing[:10]) + ("……" if len(missing) > 10 else "")
            self.stderr.write(
                f"警告：数据库中有 {len(missing)} 个文件在 MEDIA_ROOT 中找不到：{shown}"
                f" (Warning: {len(missing)} files named in the database are missing from MEDIA_ROOT.)"
            )
        self._migration_hints(manifest)
        if differ:
            raise CommandError(
                f"恢复后的行数与备份时不符：{'、'.join(differ)}。请检查上面的输出。"
                f" (Row counts differ from the backup's: {', '.join(differ)}.)"
            )
        self.stdout.write(
            self.style.SUCCESS("恢复完成，行数与备份一致。 (Restore complete; row counts match the backup.)")
            + "\n请重新启动 web、worker 和 beat。 (Start the web, worker and beat processes again.)"
        )

    @staticmethod
    def _missing_files(media_root: Path) -> list:
        tables = existing_tables()
        missing = []
        with connection.cursor() as cursor:
            for label, column in FILE_COLUMNS:
                table = apps.get_model(label)._meta.db_table
                if table not in tables:
                    continue
                quote = connection.ops.quote_name
                cursor.execute(f"SELECT {quote(column)} FROM {quote(table)} WHERE {quote(column)} <> ''")
                missing += [name for (name,) in cursor.fetchall() if not (media_root / name).is_file()]
        return sorted(missing)

    def _migration_hints(self, manifest: dict) -> None:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        known = set(executor.loader.graph.nodes)
        unknown = sorted(
            f"{app}.{name}"
            for app, names in (manifest.get("migrations") or {}).items()
            for name in names
            if (app, name) not in known
        )
        if pending:
            self.stdout.write(
                f"备份早于当前代码（{len(pending)} 个迁移未应用）：请运行 python manage.py migrate。"
                f" (The backup predates the code: run python manage.py migrate.)"
            )
        if unknown:
            self.stderr.write(
                f"警告：备份来自更新的程序版本（当前代码没有这些迁移：{'、'.join(unknown[:5])}）。请先升级程序。"
                " (Warning: the backup comes from a newer version of the portal; upgrade the code first.)"
            )
