"""Which rerun comes next, without training: seed-major when equal, by the spreads otherwise."""

from __future__ import annotations

import pytest

from study.errors import ConfigError
from study.reruns.allocation import next_rerun
from study.stats.intervals import MIN_RERUNS_EACH

SEEDS = list(range(1000, 1040))


def _done(before: list[float], after: list[float]) -> dict[str, dict[int, float]]:
    return {"before": dict(zip(SEEDS, before, strict=False)),
            "after": dict(zip(SEEDS, after, strict=False))}


def test_equal_goes_seed_by_seed_before_first():
    assert next_rerun(_done([], []), SEEDS) == ("before", 1000)
    assert next_rerun(_done([0.8], []), SEEDS) == ("after", 1000)
    assert next_rerun(_done([0.8], [0.8]), SEEDS) == ("before", 1001)
    assert next_rerun(_done([0.8, 0.8], [0.8]), SEEDS) == ("after", 1001)


def test_equal_fills_a_gap_first_and_ends_when_every_seed_is_rerun():
    done = {"before": {1001: 0.8}, "after": {1000: 0.8, 1001: 0.8}}
    assert next_rerun(done, SEEDS[:2]) == ("before", 1000)
    done["before"][1000] = 0.8
    assert next_rerun(done, SEEDS[:2]) is None


def test_by_spread_starts_equal_until_each_placement_has_its_minimum():
    noisy, steady = [0.70, 0.90] * 10, [0.80, 0.81] * 10
    almost = _done(noisy[:MIN_RERUNS_EACH], steady[:MIN_RERUNS_EACH - 1])
    assert next_rerun(almost, SEEDS, "by-spread") == ("after", 1000 + MIN_RERUNS_EACH - 1)


def test_by_spread_reruns_the_noisier_placement_first():
    noisy, steady = [0.70, 0.90] * 20, [0.80, 0.81] * 20
    assert next_rerun(_done(noisy[:8], steady[:8]), SEEDS, "by-spread") == ("before", 1008)
    assert next_rerun(_done(steady[:8], noisy[:8]), SEEDS, "by-spread") == ("after", 1008)


def test_by_spread_counts_end_in_proportion_to_the_stds():
    accuracies = {"before": [0.70, 0.90], "after": [0.78, 0.82]}  # std about 0.10 and 0.02
    done: dict[str, dict[int, float]] = {"before": {}, "after": {}}
    for _ in range(60):
        placement, seed = next_rerun(done, range(1000, 1100), "by-spread")
        done[placement][seed] = accuracies[placement][len(done[placement]) % 2]
    assert (len(done["before"]), len(done["after"])) == (50, 10)  # 5 to 1, as the stds


def test_by_spread_on_equal_spreads_alternates_like_equal():
    values = [0.70, 0.90] * 10
    assert next_rerun(_done(values[:10], values[:10]), SEEDS, "by-spread") == ("before", 1010)
    assert next_rerun(_done(values[:11], values[:10]), SEEDS, "by-spread") == ("after", 1010)


def test_by_spread_goes_on_with_the_other_placement_when_one_has_every_seed():
    noisy, steady = [0.70, 0.90] * 20, [0.80, 0.81] * 20
    assert next_rerun(_done(noisy[:10], steady[:8]), SEEDS[:10], "by-spread") == ("after", 1008)


def test_an_unknown_allocation_is_refused_with_the_value():
    with pytest.raises(ConfigError, match=r"`allocation` must be one of \['equal', 'by-spread'\]"
                                          r", but got 'neyman'\."):
        next_rerun(_done([], []), SEEDS, "neyman")


def test_equal_goes_seed_by_seed_over_every_value_of_a_question_reference_first():
    done = {"relu6": {1000: 0.8}, "hard_swish": {}, "gelu": {}}
    assert next_rerun(done, SEEDS) == ("hard_swish", 1000)
    done["hard_swish"][1000] = 0.8
    assert next_rerun(done, SEEDS) == ("gelu", 1000)
    done["gelu"][1000] = 0.8
    assert next_rerun(done, SEEDS) == ("relu6", 1001)


def test_equal_passes_over_the_seeds_other_workers_hold_finishing_a_half_pair_first():
    taken = {"before": {1000}, "after": set()}
    assert next_rerun(_done([], []), SEEDS, taken=taken) == ("after", 1000)
    taken["after"].add(1000)
    assert next_rerun(_done([], []), SEEDS, taken=taken) == ("before", 1001)
    assert next_rerun(_done([0.8], [0.8]), SEEDS[:1], taken={"before": {1001}}) is None
