"""CSV exports of the network module."""

import csv
from collections.abc import Iterable, Iterator

from django.utils.translation import gettext as _

from .models import RegisterEntry


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: object) -> str:
    """Text for a spreadsheet cell; a leading = + - @ would be run as a formula, so quote it."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def register_csv_rows(entries: Iterable[RegisterEntry]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(
        [
            _("Number"),
            _("Name"),
            _("Legal form"),
            _("Enterprise number"),
            _("Domicile or registered seat"),
            _("Admission"),
            _("Resignation"),
            _("Exclusion"),
        ]
    )
    for entry in entries:
        yield writer.writerow(
            [
                _cell(v)
                for v in (
                    entry.number,
                    entry.name,
                    entry.legal_form,
                    entry.enterprise_number,
                    entry.address,
                    entry.admitted_on.isoformat(),
                    entry.resigned_on.isoformat() if entry.resigned_on else "",
                    entry.excluded_on.isoformat() if entry.excluded_on else "",
                )
            ]
        )
