"""The stop rules of the confirmation reruns, through `run_confirmation` and the command line:
the half-width stop, --stop decided on unpaired and paired reruns, their flags' mistakes, and
what paired reruns refuse. Training is faked; the search study is conftest.py's."""

from __future__ import annotations

import io
import re

import numpy as np
import optuna
import pytest

import study.reruns.training as training_module
from study.config import ConfigError
from study.confirm import run_confirmation
from study.reruns.stopping import StopRule
from study.reruns.training import RerunResult
from study.stats.decision import MIN_RERUNS_TO_DECIDE
from study.stats.looks import anytime_verdict, half_width
from study.storage.reruns import confirm_study_name, rerun_seeds

SEARCH = "s"  # the search study in `url` (conftest.py)


def test_stops_once_the_interval_is_as_narrow_as_asked_and_a_rerun_of_it_trains_nothing(
        url, monkeypatch):
    def accuracy(placement: str, seed: int) -> float:  # stds about 0.01 and 0.005
        return 0.8 + seed % 2 * (0.02 if placement == "before" else 0.01)

    def train_and_score(models, params, inputs, config, seeds):
        seed = seeds.seed
        calls.append((params["bn_position"], seed))
        return RerunResult(accuracy(params["bn_position"], seed), 1.0, 0.1)

    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(training_module, "train_and_score", train_and_score)
    stream = io.StringIO()
    run_confirmation(url, SEARCH, 40, stream=stream, allocation="by-spread", pairing="unpaired",
                     stop_at_half_width=0.005)
    widths = []  # the half-width after each rerun, recomputed from the fake accuracies
    done: dict[str, dict[int, float]] = {"before": {}, "after": {}}
    for placement, seed in calls:
        done[placement][seed] = accuracy(placement, seed)
        widths.append(half_width(done))
    narrow = [w is not None and w <= 0.005 for w in widths]
    assert narrow.index(True) == len(calls) - 1  # it stopped at the first narrow enough
    assert len(calls) < 80
    assert "pp asked for: no more reruns." in stream.getvalue()
    confirm = optuna.load_study(study_name=confirm_study_name(SEARCH), storage=url)
    assert confirm.user_attrs["config"]["stop_at_half_width"] == 0.005

    calls.clear()
    run_confirmation(url, SEARCH, 40, stream=(again := io.StringIO()), allocation="by-spread",
                     pairing="unpaired", stop_at_half_width=0.005)
    assert calls == [] and "no more reruns." in again.getvalue()


def test_a_half_width_outside_0_1_is_one_line_error(url, capsys, assert_one_line_error):
    assert_one_line_error(capsys, ["--storage", url, "--study-name", SEARCH, "--stop",
                                   "half-width", "--half-width", "0.5pp"],
                          "argument --half-width: invalid float value: '0.5pp'")
    assert_one_line_error(capsys, ["--storage", url, "--study-name", SEARCH, "--stop",
                                   "half-width", "--half-width", "5"],
                          "`stop_at_half_width` must be a fraction of accuracy in (0, 1), "
                          "but got 5.0.")
    assert optuna.get_all_study_names(storage=url) == [SEARCH]


def test_stop_decided_stops_at_the_first_rerun_the_anytime_verdict_decides(url, monkeypatch):
    rng = np.random.default_rng(3)
    drawn = {placement: {seed: float(rng.normal(0.80 + (placement == "after") * 0.015, 0.005))
                         for seed in rerun_seeds(200)} for placement in ("before", "after")}

    def train_and_score(models, params, inputs, config, seeds):
        seed = seeds.seed
        calls.append((params["bn_position"], seed))
        return RerunResult(drawn[params["bn_position"]][seed], 1.0, 0.1)

    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(training_module, "train_and_score", train_and_score)
    stream = io.StringIO()
    run_confirmation(url, SEARCH, 200, stream=stream, allocation="by-spread", pairing="unpaired",
                     rule=StopRule("decided"))

    verdicts = []  # the anytime verdict after each rerun, recomputed from the draws
    done: dict[str, dict[int, float]] = {"before": {}, "after": {}}
    for placement, seed in calls:
        done[placement][seed] = drawn[placement][seed]
        found = anytime_verdict(done)
        verdicts.append(None if found is None else found[0])
    assert verdicts[-1] == "matters" and "matters" not in verdicts[:-1]
    assert min(len(done["before"]), len(done["after"])) >= MIN_RERUNS_TO_DECIDE
    assert "\"matters\" at a margin of ±0.50 pp; no more reruns." in stream.getvalue()
    # Every rerun line after the first estimates the time left, to the last one and to the
    # first that can decide (from the mean time so far).
    lines = [line for line in stream.getvalue().splitlines() if line.startswith("Rerun ")]
    assert "; about" not in lines[0]
    assert all(re.search(r"; about .+ left at most, about .+ until it can first decide \(30 "
                         r"each\)$", line) for line in lines[1:60])
    assert all(line.endswith(" left at most") for line in lines[60:])
    record = optuna.load_study(study_name=confirm_study_name(SEARCH), storage=url).user_attrs
    assert record["config"]["stop"] == "decided" and record["config"]["margin"] == 0.005


@pytest.mark.parametrize(("argv", "message"), [
    (["--stop", "decided", "--half-width", "0.005"],
     "`--half-width` must be given only with --stop half-width, but got 0.005 with --stop "
     "decided."),
    (["--half-width", "0.005"], "`--half-width` must be given only with --stop half-width"),
    (["--stop", "half-width"], "`--half-width` must be given with --stop half-width (a "
                               "fraction, e.g. 0.005 for 0.5 pp), but got none."),
    (["--margin", "0.01"], "`--margin` must be given only with --stop decided, but got 0.01"),
    (["--stop", "decided", "--margin", "2"],
     "`margin` must be a fraction of accuracy in (0, 1), but got 2.0."),
    (["--stop", "soon"], "argument --stop: invalid choice: 'soon'"),
])
def test_stop_flags_of_another_rule_are_one_line_errors(url, capsys, argv, message,
                                                        assert_one_line_error):
    assert_one_line_error(capsys, ["--storage", url, "--study-name", SEARCH, *argv], message)
    assert optuna.get_all_study_names(storage=url) == [SEARCH]


def test_paired_stop_decides_on_the_pairs_differences(url, monkeypatch):
    # A shared seed effect of 2 pp std and a true difference of +1 pp with 0.2 pp of noise:
    # the pairs' differences decide long before the unpaired spreads could.
    rng = np.random.default_rng(5)
    shared = {seed: float(rng.normal(0, 0.02)) for seed in rerun_seeds(200)}
    noise = {(p, seed): float(rng.normal(0, 0.002)) for p in ("before", "after")
             for seed in rerun_seeds(200)}

    def accuracy(placement: str, seed: int) -> float:
        return 0.8 + shared[seed] + (placement == "after") * 0.01 + noise[placement, seed]

    def train_and_score(models, params, inputs, config, seeds):
        calls.append((params["bn_position"], seeds.seed))
        return RerunResult(accuracy(params["bn_position"], seeds.seed), 1.0, 0.1)

    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(training_module, "train_and_score", train_and_score)
    stream = io.StringIO()
    run_confirmation(url, SEARCH, 200, stream=stream, rule=StopRule("decided"))

    assert calls == [(p, seed) for seed in rerun_seeds(len(calls) // 2)
                     for p in ("before", "after")]
    done: dict[str, dict[int, float]] = {"before": {}, "after": {}}
    verdicts = []
    for placement, seed in calls:
        done[placement][seed] = accuracy(placement, seed)
        found = anytime_verdict(done, paired=True)
        verdicts.append(None if found is None else found[0])
    assert verdicts[-1] == "matters" and "matters" not in verdicts[:-1]
    assert len(calls) == 2 * MIN_RERUNS_TO_DECIDE  # decided as soon as it may be
    assert anytime_verdict(done)[0] != "matters"  # unpaired, the same reruns do not decide
    record = optuna.load_study(study_name=confirm_study_name(SEARCH), storage=url).user_attrs
    assert record["config"]["stop"] == "decided" and record["config"]["paired"] is True


def test_paired_reruns_refuse_by_spread_and_a_resume_of_another_design(url, monkeypatch,
                                                                       fake_training,
                                                                       confirm_trials):
    monkeypatch.setattr(training_module, "train_and_score", fake_training([]))
    with pytest.raises(ConfigError, match="must be 'equal' for paired reruns"):
        run_confirmation(url, SEARCH, 2, stream=io.StringIO(), allocation="by-spread")
    run_confirmation(url, SEARCH, 1, stream=io.StringIO(), pairing="unpaired")

    with pytest.raises(ConfigError, match="ran with pairing='unpaired' and this run asks for "
                                          "'paired'"):
        run_confirmation(url, SEARCH, 2, stream=io.StringIO())
    with pytest.raises(ConfigError, match="ran with vary='both' and this run asks for 'data'"):
        run_confirmation(url, SEARCH, 2, stream=io.StringIO(), pairing="unpaired", vary="data")
    assert len(confirm_trials(url)) == 2


def test_the_old_spellings_still_work_for_one_release_and_say_so(capsys):
    from study.confirm import _parser, stop_rule

    args = _parser().parse_args(["--study-name", SEARCH, "--seeds", "7",
                                 "--stop-at-half-width", "0.004"])
    most, rule = stop_rule(args)
    assert (most, rule.stop, rule.half_width) == (7, "half-width", 0.004)
    assert capsys.readouterr().err.strip().splitlines() == [
        "python -m study.confirm: `--seeds 7` is deprecated and goes in the next release; use "
        "`--max-reruns 7`.",
        "python -m study.confirm: `--stop-at-half-width 0.004` is deprecated and goes in the "
        "next release; use `--stop half-width --half-width 0.004`."]
