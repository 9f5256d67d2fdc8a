"""Checking evidence files by their content, not their name."""

import io
import zipfile

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_BYTES = getattr(settings, "EVIDENCE_MAX_BYTES", 20 * 1024 * 1024)

# extension → kind we accept for it
EXTENSIONS = {
    "pdf": "pdf",
    "png": "png",
    "jpg": "jpeg",
    "jpeg": "jpeg",
    "docx": "docx",
    "xlsx": "xlsx",
    "doc": "ole",
    "xls": "ole",
}
KIND_LABELS = {
    "pdf": "PDF",
    "png": "PNG",
    "jpeg": "JPEG",
    "docx": "Word",
    "xlsx": "Excel",
    "ole": "Word/Excel",
}


def sniff(head: bytes, data_for_zip=None) -> str | None:
    """The kind of file the bytes are, from their signature."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if head.startswith(b"PK\x03\x04") and data_for_zip is not None:
        try:
            names = set(zipfile.ZipFile(data_for_zip).namelist())
        except zipfile.BadZipFile:
            return None
        if "[Content_Types].xml" in names:
            if any(n.startswith("word/") for n in names):
                return "docx"
            if any(n.startswith("xl/") for n in names):
                return "xlsx"
    return None


def check_upload(upload) -> str:
    """Return the file's kind, or raise ValidationError with a message in the user's language."""
    name = upload.name or ""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in EXTENSIONS:
        raise ValidationError(
            _("不支持的文件类型“%(name)s”。可上传 PDF、图片（PNG、JPG）、Word 或 Excel 文件。")
            % {"name": name}
        )
    if upload.size > MAX_BYTES:
        raise ValidationError(
            _("文件“%(name)s”大小为 %(size).1f MB，超过 %(max)d MB 的上限。")
            % {"name": name, "size": upload.size / 1048576, "max": MAX_BYTES // 1048576}
        )
    if upload.size == 0:
        raise ValidationError(_("文件“%(name)s”是空文件。") % {"name": name})
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    kind = sniff(data[:16], io.BytesIO(data))
    if kind != EXTENSIONS[extension]:
        raise ValidationError(
            _("文件“%(name)s”的内容不是 %(expected)s 文件，请检查后重新上传。")
            % {"name": name, "expected": KIND_LABELS[EXTENSIONS[extension]]}
        )
    return kind


def safe_name(name: str) -> str:
    """Keep only the last path component; drop control characters and path tricks."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*')
    base = base.lstrip(".").strip() or "file"
    if len(base) > 200:  # shorten the stem, keep the extension the download needs
        stem, dot, extension = base.rpartition(".")
        base = (
            stem[: 200 - len(extension) - 1] + dot + extension if dot and len(extension) <= 10 else base[:200]
        )
    return base
