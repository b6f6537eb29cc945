from django.core.exceptions import ValidationError
from django.core.files import File
from django.utils.translation import gettext_lazy as _


def validate_pdf(upload: File) -> None:
    """Accept only files that really are PDF documents (they start with %PDF-).

    Only new uploads are read: a file already stored was checked when it arrived (and may be
    out of reach, e.g. after a database restore without the media files)."""
    if getattr(upload, "_committed", False):
        return
    position = upload.tell() if hasattr(upload, "tell") else 0
    upload.seek(0)
    head = upload.read(5)
    upload.seek(position)
    if head != b"%PDF-":
        raise ValidationError(_("This file is not a PDF document."), code="not_pdf")
