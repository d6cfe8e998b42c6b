"""Working calendars: next working instant, work time, working hours, daily instants, day types."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salesboost import CalendarConfig, ConfigError
from salesboost.build import build
from sim.calendar import Calendar
from tests.support import sections

DAY = 24.0


def business_week(**extra: list[str]) -> Calendar:
    """Mon-Fri 09:00-12:00 and 13:00-18:00, clock 0 = Monday 2024-01-01 00:00."""
    config = CalendarConfig(
        start_date="2024-01-01",
        workdays=["mon", "tue", "wed", "thu", "fri"],
        hours=["09:00-12:00", "13:00-18:00"],
        **extra,
    )
    return Calendar.from_config(config)


@pytest.fixture(scope="module")
def cn_2024() -> Calendar:
    """The shipped ``conf/calendar/cn_2024.yaml``: 2024 public holidays and make-up working days."""
    return Calendar.from_config(build(CalendarConfig, sections("calendar=cn_2024")["calendar"], "calendar"))


def at(day: int, hour: float) -> float:
    return day * DAY + hour


# -- is_workday ----------------------------------------------------------------------------------


def test_is_workday_weekends():
    cal = business_week()
    assert [cal.is_workday(d) for d in range(14)] == [True] * 5 + [False] * 2 + [True] * 5 + [False] * 2


def test_is_workday_cn_2024_holidays_and_make_up_days(cn_2024):
    # Day numbers count from 2024-01-01 (a Monday, New Year's Day).
    assert not cn_2024.is_workday(0)  # 2024-01-01 holiday
    assert cn_2024.is_workday(1)  # Tue 2024-01-02
    assert not cn_2024.is_workday(5)  # Sat 2024-01-06
    assert cn_2024.is_workday(34)  # Sun 2024-02-04, make-up working day
    assert cn_2024.is_workday(39)  # Fri 2024-02-09
    assert not cn_2024.is_workday(42)  # Mon 2024-02-12, Spring Festival
    assert cn_2024.is_workday(48)  # Sun 2024-02-18, make-up working day
    assert not cn_2024.is_workday(121)  # Wed 2024-05-01, Labour Day
    assert cn_2024.is_workday(131)  # Sat 2024-05-11, make-up working day
    assert not cn_2024.is_workday(274)  # Tue 2024-10-01, National Day


def test_extra_workday_wins_over_holiday_on_the_same_date():
    cal = business_week(holidays=["2024-01-06"], extra_workdays=["2024-01-06"])
    assert cal.is_workday(5)


def test_a_persons_day_off_wins_over_a_make_up_working_day():
    config = CalendarConfig(
        start_date="2024-01-01",
        workdays=["mon", "tue", "wed", "thu", "fri"],
        hours=["09:00-12:00", "13:00-18:00"],
        extra_workdays=["2024-01-06", "2024-01-07"],
    )
    person = Calendar.from_config(config, extra_holidays=[5])  # sick on Saturday 6th, a make-up day
    assert not person.is_workday(5)
    assert person.day_intervals(5) == ()
    assert person.is_workday(6)  # the other make-up day is still worked
    assert Calendar.from_config(config).is_workday(5)  # the organisation works the 6th


def test_day_intervals_follow_day_type():
    cal = business_week(holidays=["2024-01-03"])
    assert cal.day_intervals(0) == ((9.0, 12.0), (13.0, 18.0))
    assert cal.day_intervals(2) == ()
    assert cal.day_intervals(5) == ()


# -- next_working_instant ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (at(0, 8.0), at(0, 9.0)),  # before opening
        (at(0, 9.0), at(0, 9.0)),  # at opening
        (at(0, 10.5), at(0, 10.5)),  # inside working time
        (at(0, 12.0), at(0, 13.0)),  # the end of an interval is not working time
        (at(0, 12.5), at(0, 13.0)),  # lunch break
        (at(0, 18.0), at(1, 9.0)),  # after closing
        (at(4, 18.5), at(7, 9.0)),  # Friday evening -> Monday
        (at(5, 11.0), at(7, 9.0)),  # Saturday -> Monday
    ],
)
def test_next_working_instant_business_week(t, expected):
    assert business_week().next_working_instant(t) == pytest.approx(expected)


def test_next_working_instant_skips_holidays_and_uses_make_up_days(cn_2024):
    assert cn_2024.next_working_instant(0.0) == at(1, 9.0)  # New Year's Day
    assert cn_2024.next_working_instant(at(33, 10.0)) == at(34, 9.0)  # Saturday -> make-up Sunday
    assert cn_2024.next_working_instant(at(39, 18.0)) == at(48, 9.0)  # Spring Festival -> make-up Sunday


def test_is_working_matches_next_working_instant():
    cal = business_week()
    assert cal.is_working(at(0, 9.0))
    assert not cal.is_working(at(0, 12.0))
    assert not cal.is_working(at(5, 10.0))


# -- add_working_time ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("t", "work", "expected"),
    [
        (at(0, 10.0), 1.0, at(0, 11.0)),
        (at(0, 11.0), 2.0, at(0, 14.0)),  # across the lunch break
        (at(0, 8.0), 3.0, at(0, 12.0)),  # starts at opening
        (at(0, 17.0), 2.0, at(1, 10.0)),  # across the night
        (at(4, 17.0), 2.0, at(7, 10.0)),  # across the weekend
        (at(0, 9.0), 8.0, at(0, 18.0)),  # exactly one working day
        (at(0, 9.0), 40.0, at(4, 18.0)),  # exactly one working week
        (at(0, 12.5), 0.0, at(0, 13.0)),  # zero work started in a break ends when work resumes
    ],
)
def test_add_working_time_business_week(t, work, expected):
    assert business_week().add_working_time(t, work) == pytest.approx(expected)


def test_add_working_time_across_holidays(cn_2024):
    # Fri 2024-02-09 17:00 + 2 h: 1 h that day, then the Spring Festival break until Sun 2024-02-18.
    assert cn_2024.add_working_time(at(39, 17.0), 2.0) == pytest.approx(at(48, 10.0))
    # Sat 2024-02-03 is off, Sun 2024-02-04 is a make-up day.
    assert cn_2024.add_working_time(at(33, 9.0), 1.0) == pytest.approx(at(34, 10.0))


# -- working_hours_between -----------------------------------------------------------------------


def test_working_hours_between_business_week():
    cal = business_week()
    assert cal.working_hours_between(at(0, 10.5), at(0, 13.5)) == pytest.approx(2.0)
    assert cal.working_hours_between(at(0, 0.0), at(7, 0.0)) == pytest.approx(40.0)
    assert cal.working_hours_between(at(4, 17.0), at(7, 10.0)) == pytest.approx(2.0)
    assert cal.working_hours_between(at(5, 0.0), at(7, 0.0)) == 0.0
    assert cal.working_hours_between(at(1, 10.0), at(0, 10.0)) == 0.0  # reversed interval


def test_working_hours_between_with_holidays(cn_2024):
    assert cn_2024.working_hours_between(0.0, at(7, 0.0)) == pytest.approx(32.0)  # Jan 1 off
    # Week of 2024-02-05 (days 35..41): Mon-Fri worked, weekend off; plus the make-up Sunday 2024-02-04.
    assert cn_2024.working_hours_between(at(34, 0.0), at(42, 0.0)) == pytest.approx(48.0)
    assert cn_2024.working_hours_between(at(40, 0.0), at(48, 0.0)) == 0.0  # Spring Festival


# -- next_daily_instant --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (at(0, 8.0), at(0, 10.0)),
        (at(0, 10.0), at(0, 10.0)),  # at a listed time: that time
        (at(0, 10.01), at(0, 15.5)),
        (at(0, 16.0), at(1, 10.0)),
        (at(4, 16.0), at(7, 10.0)),  # Friday after the last time -> Monday
        (at(6, 12.0), at(7, 10.0)),  # Sunday
    ],
)
def test_next_daily_instant(t, expected):
    assert business_week().next_daily_instant(t, (10.0, 15.5)) == pytest.approx(expected)


def test_next_daily_instant_skips_holidays(cn_2024):
    assert cn_2024.next_daily_instant(0.0, (10.0,)) == at(1, 10.0)
    assert cn_2024.next_daily_instant(at(39, 16.0), (15.5,)) == at(48, 15.5)


def test_next_daily_instant_time_outside_working_hours():
    # Times of day need not lie inside working intervals (e.g. a 07:00 batch); only the day type counts.
    assert business_week().next_daily_instant(at(0, 8.0), (7.0,)) == at(1, 7.0)


# -- always open -------------------------------------------------------------------------------


def test_always_open_is_elapsed_time():
    cal = Calendar.always_open()
    assert cal.next_working_instant(13.37) == 13.37
    assert cal.add_working_time(13.37, 100.0) == pytest.approx(113.37)
    assert cal.working_hours_between(13.37, 113.37) == pytest.approx(100.0)
    assert all(cal.is_workday(d) for d in range(30))
    assert cal.next_daily_instant(13.37, (10.0,)) == at(1, 10.0)


def test_always_open_config_matches_builtin():
    config = build(CalendarConfig, sections("calendar=always_open")["calendar"], "calendar")
    cal, builtin = Calendar.from_config(config), Calendar.always_open()
    for t, w in [(0.0, 5.0), (17.25, 30.5), (100.0, 0.0)]:
        assert cal.add_working_time(t, w) == pytest.approx(builtin.add_working_time(t, w))
        assert cal.working_hours_between(t, t + w) == pytest.approx(w)


def test_round_the_clock_calendar_with_a_holiday_is_not_always_open():
    cal = Calendar(start_weekday=0, workdays=range(7), intervals=[(0.0, 24.0)], holidays=[2])
    assert cal.next_working_instant(at(2, 5.0)) == at(3, 0.0)
    assert cal.add_working_time(at(1, 23.0), 2.0) == pytest.approx(at(3, 1.0))
    assert cal.working_hours_between(0.0, at(4, 0.0)) == pytest.approx(72.0)


# -- properties --------------------------------------------------------------------------------

PROPERTY_CALENDARS = {
    "business_week": business_week(holidays=["2024-01-10", "2024-01-11"], extra_workdays=["2024-01-13"]),
    "always_open": Calendar.always_open(),
    "night_shift": Calendar(start_weekday=3, workdays=[0, 2, 4], intervals=[(0.0, 2.0), (22.0, 24.0)]),
}
times = st.floats(min_value=0.0, max_value=2000.0, allow_nan=False)
works = st.floats(min_value=0.0, max_value=300.0, allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(sorted(PROPERTY_CALENDARS)), t=times, w=works)
def test_working_hours_between_inverts_add_working_time(name, t, w):
    cal = PROPERTY_CALENDARS[name]
    end = cal.add_working_time(t, w)
    assert end >= t
    assert cal.working_hours_between(t, end) == pytest.approx(w, abs=1e-6)


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(sorted(PROPERTY_CALENDARS)), t=times, w1=works, w2=works)
def test_add_working_time_is_monotone_in_work(name, t, w1, w2):
    cal = PROPERTY_CALENDARS[name]
    lo, hi = sorted((w1, w2))
    assert cal.add_working_time(t, lo) <= cal.add_working_time(t, hi)


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(sorted(PROPERTY_CALENDARS)), t=times)
def test_next_working_instant_is_the_first_working_instant(name, t):
    cal = PROPERTY_CALENDARS[name]
    nxt = cal.next_working_instant(t)
    assert nxt >= t
    assert cal.is_working(nxt)
    assert cal.working_hours_between(t, nxt) == pytest.approx(0.0, abs=1e-9)
    assert cal.add_working_time(t, 0.0) == pytest.approx(nxt)


# -- errors ------------------------------------------------------------------------------------


def test_calendar_without_workdays_raises():
    with pytest.raises(ValueError, match="working weekday"):
        Calendar(start_weekday=0, workdays=[], intervals=[(9.0, 17.0)])


def test_calendar_without_intervals_raises():
    with pytest.raises(ValueError, match="working interval"):
        Calendar(start_weekday=0, workdays=[0, 1], intervals=[])


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"workdays": []}, "workdays"),
        ({"workdays": ["monday"]}, "workdays[0]"),
        ({"hours": []}, "hours"),
        ({"hours": ["09:00-12:00", "11:00-18:00"]}, "hours"),
        ({"hours": ["12:00-09:00"]}, "hours[0]"),
        ({"hours": ["9-12"]}, "hours[0]"),
        ({"holidays": ["2024-13-01"]}, "holidays[0]"),
        ({"extra_workdays": ["2024-01-06", "soon"]}, "extra_workdays[1]"),
        ({"start_date": "01/01/2024"}, "start_date"),
    ],
)
def test_calendar_config_errors_name_the_key(changes, key):
    data = {"start_date": "2024-01-01", "workdays": ["mon"], "hours": ["09:00-17:00"], **changes}
    with pytest.raises(ConfigError) as info:
        build(CalendarConfig, data, "calendar")
    assert info.value.key == f"calendar.{key}"
