"""The stop rules and the rerun loop, without training: accuracies are drawn."""

from __future__ import annotations

import numpy as np
import pytest

from study.errors import ConfigError
from study.reruns.stopping import LooksInOrder, StopRule, rerun_until_stopped
from study.stats.looks import anytime_verdict
from study.storage.reruns import rerun_seeds

SEEDS = rerun_seeds(100)


def _draws(effect: float, seed: int = 0) -> dict[str, dict[int, float]]:
    rng = np.random.default_rng(seed)
    return {"before": dict(zip(SEEDS, rng.normal(0.85, 0.005, 100), strict=True)),
            "after": dict(zip(SEEDS, rng.normal(0.85 + effect, 0.005, 100), strict=True))}


def _run(rule: StopRule, draws: dict[str, dict[int, float]], allocation: str = "equal"):
    done: dict[str, dict[int, float]] = {"before": {}, "after": {}}
    reason = rerun_until_stopped(done, SEEDS, allocation, rule.reason_to_stop,
                                 lambda placement, seed: draws[placement][seed])
    return done, reason


def test_all_runs_every_seed_of_each_placement():
    done, reason = _run(StopRule(), _draws(0.0))
    assert reason is None and [len(done[p]) for p in done] == [100, 100]


def test_decided_stops_on_matters_once_both_have_the_minimum():
    done, reason = _run(StopRule("decided"), _draws(0.02))

    assert [len(done[p]) for p in done] == [30, 30]  # clear at once: stops at the minimum
    assert anytime_verdict(done)[0] == "matters" and "\"matters\"" in reason
    assert anytime_verdict({p: dict(list(done[p].items())[:29]) for p in done}) is None


def test_decided_stops_on_equivalent_and_goes_on_while_undecided():
    done, reason = _run(StopRule("decided"), _draws(0.0, seed=1))
    assert anytime_verdict(done)[0] == "equivalent" and "\"equivalent\"" in reason
    assert 30 < len(done["before"]) < 100

    done, reason = _run(StopRule("decided"), _draws(0.005, seed=2))  # on the margin
    assert reason is None and [len(done[p]) for p in done] == [100, 100]


def test_a_rule_already_met_reruns_nothing():
    draws = _draws(0.02)
    done = {p: dict(list(draws[p].items())[:40]) for p in draws}
    calls = []

    reason = rerun_until_stopped(done, SEEDS, "by-spread", StopRule("decided").reason_to_stop,
                                 lambda placement, seed: calls.append(seed) or 0.0)

    assert calls == [] and reason is not None


def test_half_width_stops_once_welch_is_narrow_enough():
    done, reason = _run(StopRule("half-width", half_width=0.003), _draws(0.0, seed=3))
    assert reason.startswith("The 95% interval of the difference is ±0.")
    assert len(done["before"]) < 100


@pytest.mark.parametrize(("arguments", "message"), [
    ({"stop": "soon"}, r"`stop` must be one of \['all', 'half-width', 'decided'\], but got "
                       r"'soon'"),
    ({"stop": "half-width"}, r"`stop_at_half_width` must be given exactly with stop "
                             r"'half-width', but got stop='half-width' and "
                             r"stop_at_half_width=None"),
    ({"stop": "half-width", "half_width": 5.0}, r"in \(0, 1\), but got 5.0"),
    ({"stop": "decided", "margin": 0.0}, r"`margin` must be a fraction of accuracy in \(0, 1\)"),
    ({"stop": "decided", "minimum": 1}, r"`minimum` must be at least 2 reruns, but got 1"),
])
def test_a_wrong_rule_is_refused_with_the_rule(arguments, message):
    with pytest.raises(ConfigError, match=message):
        StopRule(**arguments)


def test_three_values_each_compared_with_the_reference_at_half_the_level():
    from study.stats.looks import anytime_verdicts
    from study.stats.sequential import confidence_sequence

    rng = np.random.default_rng(3)
    done = {value: dict(zip(SEEDS[:40], rng.normal(0.85 + shift, 0.004, 40), strict=True))
            for value, shift in (("relu6", 0.0), ("hard_swish", 0.02), ("gelu", 0.0))}

    found = anytime_verdicts(done)
    assert list(found) == ["hard_swish", "gelu"]
    low, high = confidence_sequence(list(done["gelu"].values()), list(done["relu6"].values()),
                                    alpha=0.025)  # 0.05 split over the two comparisons
    assert found["gelu"][1] == pytest.approx((low, high))
    assert found["hard_swish"][0] == "matters"
    with pytest.raises(ValueError, match=r"`value` must be named when 2 values are compared"):
        anytime_verdict(done)


def test_decided_waits_until_every_comparison_with_the_reference_is_decided():
    rng = np.random.default_rng(4)
    draws = {value: dict(zip(SEEDS, rng.normal(0.85 + shift, 0.004, 100), strict=True))
             for value, shift in (("relu6", 0.0), ("hard_swish", 0.03), ("gelu", 0.0))}
    done = {value: {} for value in draws}

    reason = rerun_until_stopped(done, SEEDS, "equal", StopRule("decided").reason_to_stop,
                                 lambda value, seed: draws[value][seed])

    assert reason is not None and "split over 2 comparisons" in reason
    assert "hard_swish - relu6" in reason and "gelu - relu6" in reason
    assert "\"matters\"" in reason and "\"equivalent\"" in reason
    counts = [len(found) for found in done.values()]
    assert max(counts) - min(counts) <= 1 and min(counts) >= 30  # seed by seed, all alike
    found = anytime_verdict({v: done[v] for v in ("relu6", "gelu")}, alpha=0.025)
    assert found is not None and found[0] == "equivalent"


def test_looks_in_order_stop_where_one_process_stops_whatever_order_the_reruns_end_in():
    rule = StopRule("decided", paired=True)
    draws = _draws(0.02)
    alone, reason = _run(rule, draws)
    assert reason is not None
    keys = [(value, seed) for seed in SEEDS for value in ("before", "after")]
    stored: dict[str, dict[int, float]] = {"before": {}, "after": {}}
    looks = LooksInOrder(rule, ["before", "after"], SEEDS)
    # Workers finish out of order: the pair after next ends before the next one's "after".
    shuffled = [*keys[:5], keys[6], keys[7], keys[5], *keys[8:]]
    found = []
    for value, seed in shuffled:
        stored[value][seed] = draws[value][seed]
        found.append(looks.reason_to_stop(stored))
    assert found[-1] == reason  # a reason, once found, stays
    first = found.index(reason)  # found once every rerun before one process's stop is stored
    assert set(shuffled[:first + 1]) >= {(v, s) for v, reruns in alone.items() for s in reruns}
    assert found[first - 1] is None
    assert LooksInOrder(StopRule(), ["before", "after"], SEEDS).reason_to_stop(stored) is None
