from __future__ import annotations

import dataclasses
import json

import pytest

from analysis.findings.settling import SEEDS_NEEDED_CAP, more_reruns_by_spread
from analysis.reports.markdown import report_markdown
from analysis.reports.verdict_text import recommendation, verdict_record, verdict_sentence
from analysis.study_analysis import Analysis


def _with(analysis: Analysis, **changes) -> Analysis:
    return dataclasses.replace(
        analysis, comparison=dataclasses.replace(analysis.comparison, **changes)
    )


def test_verdict_sentence_in_percentage_points(analysis):
    changed = _with(
        analysis,
        verdict="inconclusive",
        difference=0.0031,
        ci_low=-0.008,
        ci_high=0.0142,
        n_after=5,
    )

    assert verdict_sentence(changed) == (
        "Verdict (from the confirmation reruns): inconclusive - after minus before = +0.31 pp, "
        "anytime-valid 95% CI [-0.80, +1.42] pp (n = 4 before, 5 after)."
    )
    assert "Welch 95% CI [-0.80" in verdict_sentence(_with(changed, interval="welch"))
    provisional = dataclasses.replace(analysis, source="search")
    assert verdict_sentence(provisional).startswith("Verdict (provisional, from the search): ")


def test_an_interval_the_data_cannot_bound_is_said_so_not_printed_as_100_pp(analysis):
    unbounded = _with(analysis, verdict="inconclusive", difference=-0.0078, ci_low=-1.0,
                      ci_high=1.0, n_before=2, n_after=2)

    assert verdict_sentence(unbounded) == (
        "Verdict (from the confirmation reruns): inconclusive - after minus before = -0.78 pp, "
        "anytime-valid 95% CI not yet bounded (n = 2 per value).")
    assert "100.00" not in report_markdown(unbounded, {})


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"verdict": "matters", "difference": -0.012, "ci_low": -0.018, "ci_high": -0.006},
            "bn_position=before is better by 1.20 pp, by at least 0.60 pp",
        ),
        (
            {"verdict": "nonzero", "difference": -0.0065, "ci_low": -0.0115, "ci_high": -0.0016,
             "seeds_needed": 90},
            "bn_position=before is ahead, by between 0.16 and 1.15 pp: whether by the "
            "margin (±0.50 pp) is not settled. About 90 seeds",
        ),
        ({"verdict": "equivalent"},
         "bn_position makes no practical difference between before and after"),
        ({"verdict": "inconclusive", "seeds_needed": 23}, "About 23 seeds per value"),
        ({"verdict": "inconclusive", "seeds_needed": SEEDS_NEEDED_CAP + 1}, "would not settle it"),
    ],
)
def test_recommendation_follows_the_verdict(analysis, changes, expected):
    assert expected in recommendation(_with(analysis, **changes))


def test_below_the_minimum_the_recommendation_says_why_nothing_is_decided(analysis):
    few = _with(analysis, verdict="inconclusive", seeds_needed=41)

    assert few.comparison.below_minimum
    assert recommendation(few).startswith(
        "The anytime interval decides nothing before 30 reruns per value")


def test_an_inconclusive_recommendation_offers_reruns_by_spread_where_they_save(analysis):
    unequal = _with(analysis, verdict="inconclusive", difference=0.0, std_before=0.027,
                    std_after=0.005, n_before=30, n_after=30, seeds_needed=700)
    more = more_reruns_by_spread(unequal.comparison)
    most = max(30 + more["before"], 30 + more["after"])

    assert recommendation(unequal).endswith(
        f" Allocated by spread, fewer would: {more['before']} more of bn_position=before and "
        f"{more['after']} more of bn_position=after (`python -m study.confirm --storage "
        "sqlite:///x.db "
        f"--study-name s --stop decided --max-reruns {most} --pairing unpaired --allocation "
        f"by-spread`).")
    welch = _with(unequal, interval="welch", seeds_needed=188)
    more = more_reruns_by_spread(welch.comparison)
    assert recommendation(welch).endswith(
        f"--max-reruns {max(30 + more['before'], 30 + more['after'])} --pairing unpaired "
        f"--allocation by-spread`).")
    alike = _with(analysis, verdict="inconclusive", difference=0.0, std_before=0.01,
                  std_after=0.01, n_before=30, n_after=30, seeds_needed=90)
    assert "by spread" not in recommendation(alike)


def test_provisional_recommendation_gives_the_confirm_command(analysis):
    text = recommendation(dataclasses.replace(analysis, source="search"))

    assert "`python -m study.select --storage sqlite:///x.db --study-name s`" in text
    assert "`python -m study.confirm --storage sqlite:///x.db --study-name s --stop decided`" in (
        text)


def test_a_paired_study_goes_on_paired_never_by_spread(analysis):
    paired = _with(analysis, verdict="inconclusive", difference=0.0, std_before=0.027,
                   std_after=0.005, n_before=30, n_after=30, seeds_needed=700, paired=True)

    text = recommendation(paired)

    assert text.endswith(" Go on with `python -m study.confirm --storage sqlite:///x.db "
                         "--study-name s --stop decided --max-reruns 700`.")
    assert "by spread" not in text and "by-spread" not in text


def test_verdict_record_is_json_with_the_contract_keys(analysis, verdict_contract):
    record = json.loads(json.dumps(verdict_record(analysis)))

    assert list(record)[:len(verdict_contract)] == verdict_contract
    assert record["n_per_position"] == {"before": 4, "after": 4}
    assert record["reproduced_search_trials"]["before"] == [
        int(analysis.compared["before"]["source_trial"].iloc[0])
    ]
