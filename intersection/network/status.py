"""Agreement status from dates. Pure Python: no Django import (checked by import-linter)."""

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class AgreementStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    TERMINATED = "terminated"


@dataclass(frozen=True)
class AgreementDates:
    signed_on: date | None
    starts_on: date | None
    ends_on: date | None
    terminated_on: date | None


def add_years(day: date, years: int) -> date:
    """Same day `years` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def term_end(
    *,
    starts_on: date | None,
    ends_on: date | None,
    duration_years: int | None,
    tacit_renewal: bool,
    terminated_on: date | None,
    on: date,
) -> date | None:
    """Last day of the term running on `on`; None when open-ended.

    The first term ends on `ends_on`, else on the day before start + duration. With tacit
    renewal, terms of the same length follow one another until a termination: the termination
    date is the first day without effect (a notice given today for a later date keeps access
    until the day before).
    """
    if starts_on is None:
        return ends_on
    end = ends_on
    if end is None and duration_years:
        end = add_years(starts_on, duration_years) - timedelta(days=1)
    if end is not None and tacit_renewal:
        end = _renewed_end(starts_on, end, duration_years, until=on, terminated_on=terminated_on)
    if terminated_on is not None:
        last_day = terminated_on - timedelta(days=1)
        end = last_day if end is None else min(end, last_day)
    return end


def _renewed_end(
    starts_on: date,
    first_end: date,
    duration_years: int | None,
    until: date,
    terminated_on: date | None,
) -> date:
    """End of the term running on `until` (or at the termination) when terms follow tacitly."""
    horizon = until if terminated_on is None else min(until, terminated_on)
    end, term = first_end, 1
    while end < horizon:
        term += 1
        if duration_years:
            end = add_years(starts_on, duration_years * term) - timedelta(days=1)
        else:  # same length as the first term, in days
            end = starts_on + (first_end - starts_on + timedelta(days=1)) * term - timedelta(days=1)
    return end


def is_in_force(dates: AgreementDates, on: date) -> bool:
    """Signed, started, not ended, not terminated on that day (end day included)."""
    if dates.signed_on is None or dates.starts_on is None or dates.starts_on > on:
        return False
    if dates.terminated_on is not None and dates.terminated_on <= on:
        return False
    return dates.ends_on is None or on <= dates.ends_on


def agreement_status(dates: AgreementDates, on: date, warning_days: int) -> AgreementStatus:
    if dates.terminated_on is not None and dates.terminated_on <= on:
        return AgreementStatus.TERMINATED
    if dates.signed_on is None or dates.starts_on is None or dates.starts_on > on:
        return AgreementStatus.DRAFT
    if dates.ends_on is not None and dates.ends_on < on:
        return AgreementStatus.EXPIRED
    if dates.ends_on is not None and (dates.ends_on - on).days <= warning_days:
        return AgreementStatus.EXPIRING
    return AgreementStatus.ACTIVE
