"""The stop rules and the rerun loop, without training: accuracies are drawn."""

from __future__ import annotations

import numpy as np
import pytest

from study.errors import ConfigError
from study.reruns.stopping import StopRule, anytime_verdict, rerun_until_stopped
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
