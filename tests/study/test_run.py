"""`python -m study.run`: search, select, confirm and analysis in one command that resumes.

Training is faked (each rerun's accuracy a fixed function of its placement and seed) so the
test runs the real steps, storage and analysis in seconds; a rerun that raises KeyboardInterrupt
is the run killed mid-confirm.
"""

from __future__ import annotations

import dataclasses
import json
import math

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution

import study.reruns.training as training_module
from study.config import preset
from study.engine.search_run import open_study
from study.reruns.training import RerunResult
from study.run import main
from study.storage.contract import SCIENTIFIC_PARAM
from study.storage.opener import open_storage
from study.storage.reruns import CONFIRM_SEED_BASE

SIZES = ["--n-trials", "4", "--epochs", "1", "--train-size", "256", "--val-size", "128"]
DISTRIBUTIONS = {"bn_position": CategoricalDistribution(["before", "after"]),
                 "learning_rate": FloatDistribution(1e-4, 0.5, log=True),
                 "alpha": CategoricalDistribution([0.35, 0.5, 0.75, 1.0])}
# "after" is 2 pp ahead on every seed, with a seed effect the two share: decided "matters" at
# the 30 pairs an anytime verdict needs first.
BASE = {"before": 0.80, "after": 0.82}


def _searched(url: str) -> None:
    """A finished search of 4 trials (2 per placement), as `study.search` stores one."""
    config = preset("smoke", n_trials=4, epochs=1, train_size=256, val_size=128, storage=url,
                    study_name="S")
    search = open_study(config, open_storage(url), dataclasses.asdict(config),
                        scientific_param=SCIENTIFIC_PARAM)
    for position, learning_rate, value in (("before", 0.01, 0.80), ("before", 0.1, 0.70),
                                           ("after", 0.01, 0.81), ("after", 0.1, 0.75)):
        search.add_trial(optuna.trial.create_trial(
            params={"bn_position": position, "learning_rate": learning_rate, "alpha": 0.35},
            distributions=DISTRIBUTIONS, value=value, intermediate_values={0: value}))


@pytest.fixture
def fake_training(monkeypatch):
    """Deterministic reruns; `kill_at[0]` = n raises KeyboardInterrupt at the n-th test rerun."""
    calls: list[tuple[str, int]] = []
    kill_at = [None]

    def train_and_score(models, params, inputs, config, seeds):
        placement = params["bn_position"]
        if seeds.seed >= CONFIRM_SEED_BASE:
            calls.append((placement, seeds.seed))
            if len(calls) == kill_at[0]:
                raise KeyboardInterrupt
        value = BASE[placement] + 0.01 * math.sin(seeds.seed) + 0.001 * math.cos(
            3 * seeds.seed + (placement == "after"))
        return RerunResult(value - 10 * params["learning_rate"] / 100, 0.5, 0.1, [],
                           f"w{seeds.weights}")

    monkeypatch.setattr(training_module, "train_and_score", train_and_score)
    return calls, kill_at


def _command(tmp_path, name: str) -> list[str]:
    return [*SIZES, "--storage", f"sqlite:///{tmp_path / name}.db", "--study-name", "S",
            "--top-k", "2", "--select-seeds", "2", "--max-reruns", "40",
            "--out", str(tmp_path / f"{name}-report"),
            "--snapshot", str(tmp_path / f"{name}-snapshot.db")]


def _confirm_values(url: str) -> list[tuple[str, int, float]]:
    confirm = optuna.load_study(study_name="S/confirm", storage=url)
    return sorted((t.params[SCIENTIFIC_PARAM], t.user_attrs["seed"], t.value)
                  for t in confirm.trials if t.state.is_finished())


def test_a_run_killed_mid_confirm_resumes_to_the_verdict_of_an_unbroken_run(
        tmp_path, fake_training, capsys):
    calls, kill_at = fake_training
    for name in ("broken", "unbroken"):
        _searched(f"sqlite:///{tmp_path / name}.db")

    assert main(_command(tmp_path, "unbroken")) == 0
    unbroken_calls = list(calls)
    calls.clear()
    capsys.readouterr()
    kill_at[0] = 25  # mid-confirm: 12 pairs and one "before" rerun stored
    assert main(_command(tmp_path, "broken")) == 130
    out = capsys.readouterr()
    assert "Step 3 of 4: confirm" in out.out and "Step 4 of 4" not in out.out
    assert "python -m study.run: interrupted; run the same command again" in out.err
    kill_at[0] = None
    assert main(_command(tmp_path, "broken")) == 0

    out = capsys.readouterr().out
    # Resumed at the step and rerun where it stopped: search and selection are not redone.
    assert "Resuming: 4 of 4 trials already finished." in out
    assert "All 8 reruns already finished." in out
    assert "Resuming: 24 of at most 80 reruns already finished." in out
    # No rerun twice: the interrupted one (the 25th) was never stored and is trained again.
    assert len(unbroken_calls) == 60 and calls[25] == calls[24]
    assert calls[:25] + calls[26:] == unbroken_calls
    url = f"sqlite:///{tmp_path / 'broken'}.db"
    values = _confirm_values(url)
    assert values == _confirm_values(f"sqlite:///{tmp_path / 'unbroken'}.db")
    assert len(values) == 60 and len({(p, s) for p, s, _ in values}) == 60
    verdicts = [json.loads((tmp_path / f"{name}-report" / "verdict.json").read_text())
                for name in ("broken", "unbroken")]
    assert verdicts[0] == verdicts[1] | {"study_name": "S"}
    assert verdicts[0]["verdict"] == "matters" and verdicts[0]["paired"] is True
    assert verdicts[0]["n_per_position"] == {"before": 30, "after": 30}
    # The snapshot taken after the last step holds what the live storage holds.
    snapshot = f"sqlite:///{tmp_path / 'broken-snapshot.db'}"
    assert _confirm_values(snapshot) == values


def test_settings_of_a_later_step_are_refused_before_the_search_starts(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 's.db'}"
    assert main([*SIZES, "--storage", url, "--select-seeds", "1"]) == 2
    assert main([*SIZES, "--storage", "postgresql://u:pw@127.0.0.1:1/db", "--snapshot",
                 str(tmp_path / "copy.db")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == ("python -m study.run: error: `seeds` must be between 2 (a mean and a "
                      "spread) and 400 per candidate, but got 1.")
    assert err[1].startswith("python -m study.run: error: ")
    assert not (tmp_path / "s.db").exists() and not (tmp_path / "copy.db").exists()


# A space of one dense layer: the family's searches train for real, in seconds.
DENSE_SPACE = '''
import keras


def build(hp, context):
    hp.Choice("bn_position", ["before", "after"])
    rate = hp.Float("learning_rate", 1e-3, 0.1, sampling="log")
    model = keras.Sequential([keras.Input(context.input_shape), keras.layers.Rescaling(1 / 255),
                              keras.layers.Flatten(), keras.layers.Dense(context.num_classes)])
    model.compile(optimizer=keras.optimizers.SGD(rate), metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model
'''


def _family(tmp_path) -> list[str]:
    # Real searches of a tiny model (1 and 2 epochs, pruning off), fake reruns.
    return ["--budgets", "1,2", "--budget-trials", "2,2", "--warm-start", "1", "--pruner",
            "none", "--train-size", "128", "--val-size", "64", "--batch-size", "64",
            "--search-space", "family_dense.space",
            "--storage", f"sqlite:///{tmp_path / 'f.db'}", "--study-name", "F",
            "--top-k", "1", "--select-seeds", "2", "--max-reruns", "40",
            "--out", str(tmp_path / "report")]


def test_a_two_budget_family_runs_to_a_verdict_per_budget_and_resumes_after_a_kill(
        tmp_path, fake_training, monkeypatch, capsys):
    calls, _ = fake_training
    (tmp_path / "family_dense").mkdir()
    (tmp_path / "family_dense" / "space.py").write_text(DENSE_SPACE)
    monkeypatch.syspath_prepend(str(tmp_path))
    fake = training_module.train_and_score
    selected: list[tuple[str, int]] = []

    def killed_at_the_longer_selection(models, params, inputs, config, seeds):
        if seeds.seed < CONFIRM_SEED_BASE and config.epochs == 2:
            selected.append((params["bn_position"], seeds.seed))
            if len(selected) == 3:
                raise KeyboardInterrupt
        return fake(models, params, inputs, config, seeds)

    monkeypatch.setattr(training_module, "train_and_score", killed_at_the_longer_selection)
    assert main(_family(tmp_path)) == 130
    out = capsys.readouterr().out
    assert "Step 4 of 7: select at 2 epochs" in out and "Step 5 of 7" not in out
    assert main(_family(tmp_path)) == 0

    out = capsys.readouterr().out
    assert "Resuming: 2 of 4 reruns already finished." in out
    url = f"sqlite:///{tmp_path / 'f.db'}"
    names = {s.study_name for s in optuna.get_all_study_summaries(url)}
    assert names == {"F", "F/select", "F/confirm", "F/epochs-2", "F/epochs-2/select",
                     "F/epochs-2/confirm"}
    longer = optuna.load_study(study_name="F/epochs-2", storage=url)
    shorter = optuna.load_study(study_name="F", storage=url)
    assert longer.user_attrs["config"]["epochs"] == 2 and len(longer.trials) == 2
    # Each value's best trial of the 1-epoch search was queued first, once, with its source.
    sources = [t.user_attrs.get("warm_start_from") for t in longer.trials]
    assert sorted(sources) == sorted(f"F#{t.number}" for t in shorter.trials)
    for name in ("F/epochs-2/select", "F/select"):
        reruns = optuna.load_study(study_name=name, storage=url).get_trials(
            states=(optuna.trial.TrialState.COMPLETE,))
        assert len(reruns) == 4 and len({(t.params[SCIENTIFIC_PARAM], t.user_attrs["seed"])
                                         for t in reruns}) == 4
    assert all(t.user_attrs["code_version"] for t in longer.trials)
    verdicts = [json.loads((tmp_path / "report" / folder / "verdict.json").read_text())
                for folder in (".", "epochs-2")]
    assert [v["study_name"] for v in verdicts] == ["F", "F/epochs-2"]
    assert all(v["verdict"] == "matters" and v["paired"] for v in verdicts)
    budgets = (tmp_path / "report" / "budgets.md").read_text()
    assert "does not depend on the budget" in budgets and "--budgets" in out
    assert len(calls) == 120  # 60 test reruns per budget, none twice


def test_a_results_storage_is_refused_from_uncommitted_code(tmp_path, monkeypatch, capsys):
    import study.engine.provenance as provenance

    monkeypatch.setattr(provenance, "code_version", lambda: "4f5d5e0e37aa+dirty")
    results = tmp_path / "results"
    assert main([*SIZES, "--storage", f"sqlite:///{results / 's.db'}"]) == 2
    assert main([*SIZES, "--storage", f"sqlite:///{tmp_path / 's.db'}", "--snapshot",
                 str(results / "copy.db")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == (f"python -m study.run: error: `storage` may be a results/ file only from "
                      f"a clean commit (published results name the code they ran on), but "
                      f"{results / 's.db'} would be written by 4f5d5e0e37aa+dirty; commit first "
                      "(or run from a `git worktree` of the commit), or pass --allow-dirty.")
    assert err[1].startswith("python -m study.run: error: `snapshot` may be a results/ file")
    assert not results.exists() and not (tmp_path / "s.db").exists()
