"""The verdict rule shared by the report and the stop rule."""

from __future__ import annotations

import pytest

from study.stats.decision import MIN_RERUNS_TO_DECIDE, decide
from study.storage.contract import DEFAULT_CONFIRM_SEEDS

MARGIN = 0.005


@pytest.mark.parametrize(("interval", "expected"), [
    ((0.006, 0.014), "matters"),
    ((-0.014, -0.006), "matters"),
    ((0.005, 0.009), "matters"),  # on the margin counts as clearing it
    ((-0.004, 0.004), "equivalent"),
    ((0.001, 0.004), "equivalent"),  # a real difference, too small to matter
    ((0.0016, 0.0115), "nonzero"),  # the first publication's case, after - before flipped
    ((-0.0115, -0.0016), "nonzero"),
    ((-0.002, 0.012), "inconclusive"),
    ((-0.02, 0.04), "inconclusive"),
])
def test_the_four_verdicts(interval, expected):
    assert decide(*interval, MARGIN) == expected


def test_equivalence_can_be_judged_on_its_own_interval():
    # TOST: Welch's 90% interval inside the margin, though the 95% one reaches past it.
    assert decide(-0.0055, 0.0045, MARGIN) == "inconclusive"
    assert decide(-0.0055, 0.0045, MARGIN, equivalence=(-0.0045, 0.004)) == "equivalent"


@pytest.mark.parametrize(("low", "high", "margin", "message"), [
    (0.0, 0.1, 0.0, r"`margin` must be a fraction of accuracy in \(0, 1\), but got 0.0"),
    (0.1, 0.0, 0.005, r"an interval's `low` must not exceed its `high`, but got \(0.1, 0.0\)"),
])
def test_bad_input_is_refused(low, high, margin, message):
    with pytest.raises(ValueError, match=message):
        decide(low, high, margin)


def test_confirm_reruns_by_default_as_many_as_a_decision_needs():
    assert DEFAULT_CONFIRM_SEEDS == MIN_RERUNS_TO_DECIDE
