"""Checking evidence files by their content, not their name; where they are stored.

An evidence file is stored under a random name (``evidence/<year>/<month>/<uuid4>.<ext>``) and
served only by the checked download view (``tasks:evidence_download``), never from ``/media/``:
nobody can guess a file's address, and the user's own name (``Evidence.original_name``, shortened
to ``NAME_MAX_BYTES`` bytes of UTF-8) is only the name the browser saves it under. Files stored
under earlier, readable names keep working: the view opens whatever name the row holds.
"""

import io
import uuid
import zipfile

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
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


# File systems allow 255 bytes in a name; a Chinese character is 3 bytes of UTF-8, one outside the
# basic plane (U+20000 …) is 4: the user's name is cut by bytes, so that the browser can save it.
NAME_MAX_BYTES = 200


def _cut_bytes(text: str, limit: int) -> str:
    """The longest start of ``text`` whose UTF-8 takes at most ``limit`` bytes (whole characters)."""
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def safe_name(name: str) -> str:
    """Keep only the last path component; drop control characters and path tricks; at most
    ``NAME_MAX_BYTES`` bytes of UTF-8, keeping the extension the download needs."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*')
    base = base.lstrip(".").strip() or "file"
    if len(base.encode("utf-8")) > NAME_MAX_BYTES:
        stem, dot, extension = base.rpartition(".")
        if dot and stem and len(extension.encode("utf-8")) <= 10:
            base = _cut_bytes(stem, NAME_MAX_BYTES - len(extension.encode("utf-8")) - 1) + dot + extension
        else:
            base = _cut_bytes(base, NAME_MAX_BYTES)
    return base


def stored_name(instance, filename: str) -> str:
    """Where an evidence file is stored: a random name nobody can guess, with its extension."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    extension = extension if extension in EXTENSIONS else "bin"
    today = timezone.localdate()
    return f"evidence/{today:%Y}/{today:%m}/{uuid.uuid4().hex}.{extension}"
