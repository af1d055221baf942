"""A second question end to end: `search_spaces.activation` (ReLU6 against hard-swish).

The search trains real tiny MobileNetV2s of both activations (eagerly: `eager_models`, tracing
proves nothing here); the selection and confirmation reruns are faked (an accuracy per
activation and seed), so that the test runs every step, storage and the analysis in seconds:
the steps read the question the search stored, never `bn_position`.
"""

from __future__ import annotations

import json
import math

import optuna
import pytest

import study.reruns.training as training_module
from study.reruns.training import RerunResult
from study.run import main
from study.storage.question import QUESTION_ATTR
from study.storage.reruns import CONFIRM_SEED_BASE

BASE = {"relu6": 0.80, "hard_swish": 0.81}


@pytest.mark.slow
def test_the_activation_space_runs_search_select_confirm_and_analysis(tmp_path, monkeypatch,
                                                                      capsys, eager_models):
    trained: list[tuple[str, int]] = []

    def train_and_score(models, params, inputs, config, seeds):
        assert "bn_position" not in params  # BN placement is fixed in this space
        trained.append((params["activation"], seeds.seed))
        value = BASE[params["activation"]] + 0.01 * math.sin(seeds.seed)
        return RerunResult(value, 0.5, 0.1, [], f"w{seeds.weights}")

    monkeypatch.setattr(training_module, "train_and_score", train_and_score)
    url = f"sqlite:///{tmp_path / 'act.db'}"
    out = tmp_path / "report"

    assert main(["--search-space", "activation", "--preset", "smoke", "--n-trials", "2",
                 "--epochs", "1", "--train-size", "256", "--val-size", "128",
                 "--storage", url, "--study-name", "act", "--top-k", "1", "--select-seeds", "2",
                 "--max-reruns", "3", "--out", str(out)]) == 0

    search = optuna.load_study(study_name="act", storage=url)
    assert search.user_attrs[QUESTION_ATTR] == {"param": "activation",
                                                 "values": ["relu6", "hard_swish"]}
    assert sorted(t.params["activation"] for t in search.trials) == ["hard_swish", "relu6"]
    assert all("bn_position" not in t.params for t in search.trials)
    confirm = optuna.load_study(study_name="act/confirm", storage=url)
    assert {tuple(t.params) for t in confirm.trials} == {("activation",)}
    assert sorted((a, s) for a, s in trained if s >= CONFIRM_SEED_BASE) == [
        (activation, seed) for activation in ("hard_swish", "relu6")
        for seed in range(CONFIRM_SEED_BASE, CONFIRM_SEED_BASE + 3)]
    printed = capsys.readouterr().out
    assert "Pick for activation=relu6" in printed and "activation=hard_swish seed=1002" in printed

    verdict = json.loads((out / "verdict.json").read_text())
    assert verdict["question"] == {"param": "activation", "reference": "relu6",
                                   "compared": "hard_swish", "comparisons": 1, "level": 0.95}
    assert verdict["n_per_position"] == {"relu6": 3, "hard_swish": 3}
    assert verdict["difference"] == pytest.approx(0.01)
    report = (out / "report.md").read_text()
    assert report.startswith("# Does `activation` matter once the rest is tuned?")
    assert "hard_swish minus relu6" in report and "bn_position" not in report
