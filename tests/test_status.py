"""Agreement status from dates: pure functions, no database."""

from datetime import date

import pytest

from intersection.network.status import (
    AgreementDates,
    AgreementStatus,
    add_years,
    agreement_status,
    is_in_force,
    term_end,
)

TODAY = date(2026, 11, 30)


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (AgreementDates(None, None, None, None), AgreementStatus.DRAFT),
        (AgreementDates(date(2026, 11, 1), date(2027, 1, 1), None, None), AgreementStatus.DRAFT),
        (AgreementDates(date(2020, 1, 1), date(2020, 1, 1), None, None), AgreementStatus.ACTIVE),
        (
            AgreementDates(date(2020, 1, 1), date(2020, 1, 1), date(2027, 1, 10), None),
            AgreementStatus.EXPIRING,
        ),
        (
            AgreementDates(date(2020, 1, 1), date(2020, 1, 1), date(2026, 11, 30), None),
            AgreementStatus.EXPIRING,
        ),
        (
            AgreementDates(date(2020, 1, 1), date(2020, 1, 1), date(2026, 11, 29), None),
            AgreementStatus.EXPIRED,
        ),
        (
            AgreementDates(date(2020, 1, 1), date(2020, 1, 1), None, date(2026, 11, 30)),
            AgreementStatus.TERMINATED,
        ),
        (
            AgreementDates(date(2020, 1, 1), date(2020, 1, 1), None, date(2026, 12, 31)),
            AgreementStatus.ACTIVE,
        ),
    ],
)
def test_it_derives_status_from_dates(dates: AgreementDates, expected: AgreementStatus) -> None:
    assert agreement_status(dates, TODAY, warning_days=60) == expected


def test_it_keeps_access_on_the_last_day_and_ends_it_the_day_after() -> None:
    dates = AgreementDates(date(2020, 1, 1), date(2020, 1, 1), date(2026, 11, 30), None)
    assert is_in_force(dates, date(2026, 11, 30))
    assert not is_in_force(dates, date(2026, 12, 1))


def test_it_computes_the_end_of_a_five_year_term() -> None:
    end = term_end(
        starts_on=date(2017, 10, 20),
        ends_on=None,
        duration_years=5,
        tacit_renewal=False,
        terminated_on=None,
        on=TODAY,
    )
    assert end == date(2022, 10, 19)


def test_it_rolls_tacit_renewals_forward_to_the_running_term() -> None:
    end = term_end(
        starts_on=date(2016, 11, 1),
        ends_on=None,
        duration_years=5,
        tacit_renewal=True,
        terminated_on=None,
        on=TODAY,
    )
    assert end == date(2031, 10, 31)


def test_it_stops_renewing_once_terminated() -> None:
    end = term_end(
        starts_on=date(2016, 11, 1),
        ends_on=None,
        duration_years=5,
        tacit_renewal=True,
        terminated_on=date(2020, 1, 1),
        on=TODAY,
    )
    assert end == date(2019, 12, 31)


def test_it_moves_29_february_to_28() -> None:
    assert add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)


def test_it_keeps_a_renewed_agreement_in_force_until_a_future_termination() -> None:
    # Notice given for 31 March 2027 on an agreement renewed tacitly since 2016.
    dates_for = {
        "starts_on": date(2016, 11, 1),
        "ends_on": None,
        "duration_years": 5,
        "tacit_renewal": True,
        "terminated_on": date(2027, 3, 31),
    }
    end = term_end(**dates_for, on=TODAY)  # type: ignore[arg-type]
    assert end == date(2027, 3, 30)
    dates = AgreementDates(date(2016, 10, 14), date(2016, 11, 1), end, date(2027, 3, 31))
    assert is_in_force(dates, TODAY)
    assert agreement_status(dates, TODAY, warning_days=60) == AgreementStatus.ACTIVE
    assert not is_in_force(dates, date(2027, 3, 31))  # terminated on that day


def test_it_renews_terms_of_the_first_terms_length_when_no_duration_is_given() -> None:
    end = term_end(
        starts_on=date(2024, 1, 15),
        ends_on=date(2024, 12, 31),  # a first term of 352 days
        duration_years=None,
        tacit_renewal=True,
        terminated_on=None,
        on=date(2025, 6, 1),
    )
    assert end == date(2024, 12, 31) + (date(2024, 12, 31) - date(2024, 1, 14))
