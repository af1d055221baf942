"""Any categorical question: the analysis reads the study's question, not `bn_position`.

A synthetic study asks about `activation` with three values: "relu6" (the reference), "hard_swish"
(2 pp better on every seed) and "gelu" (alike). Each is compared with the reference at half the
error level (Bonferroni over two comparisons), into a folder of its own.
"""

from __future__ import annotations

import json

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution

from analysis.cli import main as analysis_main
from analysis.reading.studies import AnalysisError, load_studies
from study.stats.sequential import confidence_sequence
from study.storage.contract import CONFIG_ATTR
from study.storage.question import QUESTION_ATTR, Question
from study.storage.reruns import RerunSeeds, confirm_study_name, rerun_seeds, store_rerun

QUESTION = Question("activation", ("relu6", "hard_swish", "gelu"))
SHIFT = {"relu6": 0.0, "hard_swish": 0.02, "gelu": 0.0}
DISTRIBUTIONS = {"activation": CategoricalDistribution(list(QUESTION.values)),
                 "learning_rate": FloatDistribution(1e-4, 0.5, log=True)}


@pytest.fixture(scope="module")
def three_values(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('question') / 'study.db'}"
    search = optuna.create_study(storage=url, study_name="act", direction="maximize")
    search.set_user_attr(QUESTION_ATTR, QUESTION.record())
    rng = np.random.default_rng(0)
    for number in range(18):
        value = QUESTION.values[number % 3]
        rate = float(10 ** rng.uniform(-3, -1))
        search.add_trial(optuna.trial.create_trial(
            params={"activation": value, "learning_rate": rate}, distributions=DISTRIBUTIONS,
            value=0.8 + SHIFT[value] + 0.01 * rng.normal(), intermediate_values={1: 0.8}))
    best = {value: max((t for t in search.trials if t.params["activation"] == value),
                       key=lambda t: t.value) for value in QUESTION.values}
    confirm = optuna.create_study(storage=url, study_name=confirm_study_name("act"),
                                  direction="maximize")
    confirm.set_user_attr(CONFIG_ATTR, {"pairing": "paired", "vary": "both",
                                        QUESTION_ATTR: QUESTION.record()})
    for seed in rerun_seeds(40):
        shared = rng.normal(0, 0.01)  # what a seed does to every value alike
        for value in QUESTION.values:
            accuracy = 0.85 + shared + SHIFT[value] + rng.normal(0, 0.002)
            store_rerun(confirm, best[value], RerunSeeds(seed, seed, seed), float(accuracy),
                        question=QUESTION, loss=0.4, seconds=1.0, compiled_model="new",
                        dtype_policy="float32")
    return url


def test_each_value_is_compared_with_the_reference_at_a_split_level(three_values, tmp_path):
    out = tmp_path / "out"

    assert analysis_main(["--storage", three_values, "--study-name", "act", "--out", str(out),
                          "--no-note", "--importance-seeds", "1"]) == 0

    found = {value: json.loads((out / value / "verdict.json").read_text())
             for value in ("hard_swish", "gelu")}
    assert found["hard_swish"]["verdict"] == "matters" and found["hard_swish"]["difference"] > 0
    assert found["gelu"]["verdict"] != "matters"
    confirm = optuna.load_study(study_name="act/confirm", storage=three_values)
    by_value = {value: [t.value for t in sorted(confirm.trials, key=lambda t: t.number)
                        if t.params["activation"] == value] for value in QUESTION.values}
    for value, record in found.items():
        assert record["question"] == {"param": "activation", "reference": "relu6",
                                      "compared": value, "comparisons": 2, "level": 0.975}
        assert record["n_per_position"] == {"relu6": 40, value: 40}
        low, high = confidence_sequence(by_value[value], by_value["relu6"], alpha=0.025,
                                        paired=True)
        assert (record["ci_low"], record["ci_high"]) == pytest.approx((low, high))
        report = (out / value / "report.md").read_text()
        assert f"difference ({value} - relu6)" in report
        assert "each is compared with 'relu6' at a 2.5% error level" in report
        assert "bn_position" not in report


def test_one_comparison_alone_and_a_value_outside_the_question(three_values, tmp_path):
    loaded = load_studies(three_values, "act", "gelu")
    assert loaded.question == Question("activation", ("relu6", "gelu"))
    assert loaded.comparisons == 2
    assert set(loaded.confirm["activation"]) == set(QUESTION.values)
    with pytest.raises(AnalysisError, match=r"`compare` must be one of \['hard_swish', 'gelu'\] "
                                            r"\(each is compared with the reference 'relu6'\), "
                                            r"but got 'relu6'\."):
        load_studies(three_values, "act", "relu6")
    with pytest.raises(AnalysisError, match=r"`compare` must be one of"):
        load_studies(three_values, "act")  # three values: which comparison is not said
