"""Checks on uploaded files: what they really are, and how large they may be.

Only new uploads are read: a file already stored was checked when it arrived (and may be out
of reach, e.g. after a database restore without the media files).
"""

import io
import struct
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.db.models.fields.files import FieldFile
from django.template.defaultfilters import filesizeformat
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps

MB = 1024 * 1024
LOGO_MAX_BYTES = 2 * MB
# Decoding needs about 4 bytes per pixel: 16 million pixels (4000 x 4000) is 64 MB at most,
# far more than a logo needs, and refuses "decompression bombs" (small files, huge images).
LOGO_MAX_PIXELS = 16_000_000
LOGO_FORMATS = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp"}
AGREEMENT_PDF_MAX_BYTES = 20 * MB


def _is_new(upload: File) -> bool:
    return not getattr(upload, "_committed", False)


@deconstructible
class MaxFileSizeValidator:
    """Refuse a new upload over `max_bytes`, saying the limit and the file's size."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes

    def __call__(self, upload: File) -> None:
        if _is_new(upload) and upload.size is not None and upload.size > self.max_bytes:
            raise ValidationError(
                _("This file is %(size)s: files of at most %(limit)s are accepted."),
                code="file_too_large",
                params={
                    "size": filesizeformat(upload.size),
                    "limit": filesizeformat(self.max_bytes),
                },
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MaxFileSizeValidator) and other.max_bytes == self.max_bytes

    def __hash__(self) -> int:
        return hash(self.max_bytes)


def validate_pdf(upload: File) -> None:
    """Accept only files that really are PDF documents (they start with %PDF-)."""
    if not _is_new(upload):
        return
    position = upload.tell() if hasattr(upload, "tell") else 0
    upload.seek(0)
    head = upload.read(5)
    upload.seek(position)
    if head != b"%PDF-":
        raise ValidationError(_("This file is not a PDF document."), code="not_pdf")


def _reencoded(image: Image.Image, image_format: str) -> bytes:
    """The pixels alone, upright, in the same format: no EXIF (camera, place), no comments."""
    image = ImageOps.exif_transpose(image)
    if "transparency" in image.info or image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
        image = image.convert("RGBA")
    if image_format == "JPEG" and image.mode != "L":
        image = image.convert("RGB")
    image.info = {}
    out = io.BytesIO()
    if image_format == "PNG":
        image.save(out, "PNG", optimize=True)
    else:
        image.save(out, image_format, quality=90)
    return out.getvalue()


def validate_logo(upload: File) -> None:
    """Accept only real PNG, JPEG or WebP images of at most LOGO_MAX_PIXELS, and replace the
    upload by its re-encoded pixels, so what is stored and served is an image we wrote:
    never a page or script named `.png`, never the original's metadata."""
    if not _is_new(upload) or (upload.size or 0) > LOGO_MAX_BYTES:
        return  # too large: MaxFileSizeValidator says so, without decoding it
    formats = list(LOGO_FORMATS)
    try:
        upload.seek(0)
        with Image.open(upload, formats=formats) as image:
            if image.width * image.height > LOGO_MAX_PIXELS:
                raise Image.DecompressionBombError
            image.verify()
        upload.seek(0)
        with Image.open(upload, formats=formats) as image:
            image_format = str(image.format)
            image.load()
            data = _reencoded(image, image_format)
    except Image.DecompressionBombError:  # ours above, or Pillow's for even larger ones
        raise ValidationError(
            _("This image has too many pixels: at most %(max)d million are accepted."),
            code="image_too_large",
            params={"max": LOGO_MAX_PIXELS // 1_000_000},
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error):
        raise ValidationError(
            _("This file is not a PNG, JPEG or WebP image, or it is damaged."), code="not_image"
        ) from None
    if isinstance(upload, FieldFile):
        name = PurePath(upload.name or "logo").stem + LOGO_FORMATS[image_format]
        upload.file = ContentFile(data, name=name)
        upload.name = name
