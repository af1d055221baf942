"""The time-left estimate every step's progress lines end with."""

from __future__ import annotations

import pytest

from study.tuning.progress import format_duration, time_left


@pytest.mark.parametrize(("seconds", "text"), [(42, "42 s"), (89.4, "89 s"), (90, "2 min"),
                                               (5399, "90 min"), (5400, "1.5 h")])
def test_durations_read_in_the_unit_a_person_would_say(seconds, text):
    assert format_duration(seconds) == text


def test_time_left_is_the_mean_so_far_times_what_is_left():
    assert time_left(600.0, 2, 4) == "about 20 min left"  # 300 s each
    with pytest.raises(ValueError, match="`done` must be at least 1 to measure a mean, but got 0"):
        time_left(0.0, 0, 3)
