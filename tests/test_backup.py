"""Backup and restore: every submission and every evidence file comes back, and a bad backup is refused.

The round trips back up the test database (``manage.py backup`` in this process), then run
``manage.py restore`` as an operator would, in a separate process pointed at an EMPTY new
database, and read that database directly. pg_dump sees only committed rows, so those tests run
in real transactions; pytest-django flushes the database after each of them, so the plan is
loaded at their start and again once the module is done (as ``tests/browser/conftest.py`` does).
"""

import io
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection

from portal.management.commands.backup import MANIFEST, require_tool, sha256_of, sign_manifest
from targets.loader import load_plan
from tasks import services
from tests.conftest import make_user
from tests.factories import open_period
from tests.test_workflow import fill_everything
from units.choices import Role
from units.models import Unit

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent
ON_POSTGRESQL = connection.vendor == "postgresql"

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
# What the data below must look like after a restore: (unit, year, quarter, status).
SUBMISSIONS = {
    ("jyt", 2024, 3, "approved"),
    ("kx", 2024, 3, "draft"),
    ("chengdong", 2024, 3, "draft"),
}
# (unit, original file name, content) of every evidence file.
EVIDENCE = {
    ("jyt", "培训通知.pdf", PDF),
    ("jyt", "现场照片.png", PNG),
    ("kx", "科普日活动总结.pdf", PDF + b"% kx\n"),
}


@pytest.fixture(scope="module", autouse=True)
def plan_reloaded_after_the_module(django_db_blocker):
    """Put the plan back after the last round trip's flush, for the tests that run after these."""
    yield
    with django_db_blocker.unblock():
        load_plan()


@pytest.fixture
def committed_plan(django_db_blocker):
    """The plan, in a database an earlier real-transaction test may have flushed."""
    with django_db_blocker.unblock():
        load_plan()


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def make_reporting_data():
    """Three forms of one period through the services: one approved, two drafts; three files."""
    period = open_period(2024, 3)
    office = make_user("office", Role.OFFICE)
    users = {}
    for code in ("jyt", "kx", "chengdong"):
        users[code] = (
            make_user(f"{code}-reporter", Role.REPORTER, code),
            make_user(f"{code}-approver", Role.APPROVER, code),
        )
    forms = {code: services.ensure_submission(Unit.objects.get(code=code), period) for code in users}
    for code, name, content in EVIDENCE:
        services.add_evidence(forms[code], SimpleUploadedFile(name, content), by=users[code][0])

    reporter, approver = users["jyt"]
    fill_everything(forms["jyt"], reporter)
    services.submit_submission(forms["jyt"], by=approver)
    services.approve_submission(forms["jyt"], by=office)

    kx = forms["kx"]
    line = kx.lines.first()
    from targets.submission.services import save_form

    save_form(kx.pk, by=users["kx"][0], version=kx.version, lines={line.pk: {"progress": "举办科普日活动"}})
    county = forms["chengdong"]
    save_form(
        county.pk,
        by=users["chengdong"][0],
        version=county.version,
        region={"funding": "30", "population": "38.5"},
    )


def back_up(output: Path) -> Path:
    call_command("backup", "--output", str(output), stdout=io.StringIO())
    (folder,) = output.iterdir()
    return folder


def restore_in_a_new_process(folder: Path, database_url: str, media: Path) -> subprocess.CompletedProcess:
    """``manage.py restore`` as an operator runs it, against another database and MEDIA_ROOT."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": database_url,
        "MEDIA_ROOT": str(media),
        "DATA_DIR": str(media.parent),
    }
    return subprocess.run(
        [sys.executable, "manage.py", "restore", str(folder)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def what_the_database_holds(cursor):
    """Submissions and evidence files of a restored database, read with plain SQL."""
    cursor.execute(
        "SELECT u.code, p.year, p.quarter, s.status FROM tasks_submission s "
        "JOIN units_unit u ON u.id = s.unit_id JOIN tasks_period p ON p.id = s.period_id"
    )
    submissions = set(cursor.fetchall())
    cursor.execute(
        "SELECT u.code, e.original_name, e.file FROM tasks_evidence e "
        "JOIN tasks_submission s ON s.id = e.submission_id JOIN units_unit u ON u.id = s.unit_id"
    )
    evidence = cursor.fetchall()
    cursor.execute(
        "SELECT f.value FROM targets_targetfigure f JOIN targets_target t ON t.id = f.target_id "
        "JOIN tasks_submission s ON s.id = f.submission_id JOIN units_unit u ON u.id = s.unit_id "
        "WHERE u.code = 'jyt' AND t.code = 'T12'"
    )
    (t12,) = cursor.fetchone()
    return submissions, evidence, t12


def check_restored(cursor, media: Path):
    submissions, evidence, t12 = what_the_database_holds(cursor)
    assert submissions == SUBMISSIONS
    assert {(code, name, (media / path).read_bytes()) for code, name, path in evidence} == EVIDENCE
    assert float(t12) == 120


def corrupted_copy(folder: Path, tmp_path: Path, name: str) -> Path:
    copy = tmp_path / "corrupted"
    shutil.copytree(folder, copy)
    data = bytearray((copy / name).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / name).write_bytes(bytes(data))
    return copy


def assert_refused_as_corrupted(copy: Path):
    before = Unit.objects.count()
    with pytest.raises(CommandError, match="校验值"):
        call_command("restore", str(copy), "--yes", stdout=io.StringIO())
    assert Unit.objects.count() == before  # --yes does not get a damaged backup through


@pytest.mark.skipif(
    not ON_POSTGRESQL, reason="PostgreSQL only (pg_dump / pg_restore); the SQLite round trip runs instead"
)
@pytest.mark.django_db(transaction=True)
def test_a_postgresql_backup_restores_into_an_empty_database_with_every_submission_and_file(
    committed_plan, media_root, tmp_path
):
    import psycopg2

    make_reporting_data()
    folder = back_up(tmp_path / "backups")
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["database"]["vendor"] == "postgresql"
    assert (manifest["counts"]["submissions"], manifest["counts"]["evidence"]) == (3, 3)
    assert manifest["media"]["files"] == 3
    assert set(manifest["files"]) == {"database.dump", "media.tar.gz"}

    server = connection.settings_dict
    login = {
        "host": server["HOST"] or None,
        "port": server["PORT"] or None,
        "user": server["USER"] or None,
        "password": server["PASSWORD"] or None,
    }
    name = f"kepu_restore_test_{secrets.token_hex(4)}"
    admin = psycopg2.connect(dbname="postgres", **login)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    try:
        url = "postgres://{user}{password}@{host}:{port}/{name}".format(
            user=server["USER"] or "",
            password=f":{server['PASSWORD']}" if server["PASSWORD"] else "",
            host=server["HOST"] or "localhost",
            port=server["PORT"] or 5432,
            name=name,
        )
        restored_media = tmp_path / "restored" / "media"
        result = restore_in_a_new_process(folder, url, restored_media)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "恢复完成，行数与备份一致" in result.stdout
        restored = psycopg2.connect(dbname=name, **login)
        try:
            check_restored(restored.cursor(), restored_media)
        finally:
            restored.close()
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    assert_refused_as_corrupted(corrupted_copy(folder, tmp_path, "database.dump"))


@pytest.mark.skipif(
    ON_POSTGRESQL, reason="SQLite only (its backup API); the PostgreSQL round trip runs instead"
)
@pytest.mark.django_db(transaction=True)
def test_a_sqlite_backup_restores_into_an_empty_database_with_every_submission_and_file(
    committed_plan, media_root, tmp_path
):
    make_reporting_data()
    folder = back_up(tmp_path / "backups")
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["database"]["vendor"] == "sqlite"
    assert (manifest["counts"]["submissions"], manifest["counts"]["evidence"]) == (3, 3)

    target = tmp_path / "restored" / "portal.sqlite3"
    restored_media = tmp_path / "restored" / "media"
    target.parent.mkdir()
    result = restore_in_a_new_process(folder, f"sqlite:///{target}", restored_media)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "恢复完成，行数与备份一致" in result.stdout
    restored = sqlite3.connect(target)
    try:
        check_restored(restored.cursor(), restored_media)
    finally:
        restored.close()

    assert_refused_as_corrupted(corrupted_copy(folder, tmp_path, "media.tar.gz"))


# Refusals, on any database: a made-up backup of the configured kind is enough to reach them.


def fake_backup(folder: Path, members=()) -> Path:
    """A backup folder with a consistent manifest, a stand-in database file and a media archive."""
    folder.mkdir()
    database = "database.dump" if ON_POSTGRESQL else "database.sqlite3"
    (folder / database).write_bytes(b"not restored in these tests")
    with tarfile.open(folder / "media.tar.gz", "w:gz") as archive:
        for name, content in members:
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    files = {
        name: {"bytes": (folder / name).stat().st_size, "sha256": sha256_of(folder / name)}
        for name in (database, "media.tar.gz")
    }
    manifest = {
        "format": 1,
        "created_at": "2026-11-28T02:30:00+08:00",
        "database": {"vendor": connection.vendor, "name": "kepu", "file": database},
        "media": {"file": "media.tar.gz", "files": len(members), "bytes": 0},
        "counts": {"units": 82},
        "migrations": {},
        "files": files,
    }
    (folder / MANIFEST).write_text(json.dumps(sign_manifest(manifest)), encoding="utf-8")
    return folder


def test_a_restore_over_a_database_that_holds_data_needs_yes(tmp_path, media_root):
    folder = fake_backup(tmp_path / "backup")
    with pytest.raises(CommandError) as refused:
        call_command("restore", str(folder), stdout=io.StringIO())
    message = str(refused.value)
    assert "已有数据" in message and "单位 82" in message and "--yes" in message
    assert Unit.objects.count() == 82


def test_a_backup_with_an_altered_file_is_refused(tmp_path, media_root):
    folder = fake_backup(tmp_path / "backup")
    with open(folder / "media.tar.gz", "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(CommandError, match=r"media\.tar\.gz 的校验值"):
        call_command("restore", str(folder), "--yes", stdout=io.StringIO())


def test_a_folder_without_a_manifest_is_not_taken_for_a_backup(tmp_path):
    (tmp_path / "database.dump").write_bytes(b"x")
    with pytest.raises(CommandError, match=r"不是 manage\.py backup 生成的备份文件夹"):
        call_command("restore", str(tmp_path), "--yes", stdout=io.StringIO())


def test_a_media_archive_reaching_outside_media_root_is_refused_before_anything_changes(tmp_path, media_root):
    folder = fake_backup(tmp_path / "backup", members=[("../escaped.txt", b"outside")])
    with pytest.raises(CommandError, match="路径不安全"):
        call_command("restore", str(folder), "--yes", stdout=io.StringIO())
    assert not (tmp_path / "escaped.txt").exists()
    assert Unit.objects.count() == 82


def test_a_backup_from_the_other_kind_of_database_is_refused(tmp_path, media_root):
    folder = fake_backup(tmp_path / "backup")
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["database"]["vendor"] = "sqlite" if ON_POSTGRESQL else "postgresql"
    (folder / MANIFEST).write_text(json.dumps(sign_manifest(manifest)))
    with pytest.raises(CommandError, match="当前配置的数据库是"):
        call_command("restore", str(folder), "--yes", stdout=io.StringIO())


def test_without_pg_dump_the_message_names_the_package_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CommandError) as missing:
        require_tool("pg_dump")
    assert "找不到 pg_dump" in str(missing.value)
    assert "postgresql-client" in str(missing.value)
