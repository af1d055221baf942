"""experiments/results_readme.py: the published study's README, written from what was stored."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import optuna
import pytest
from optuna.trial import TrialState

from analysis.cli import main as analysis_main
from analysis.simulate import write_synthetic_study
from analysis.verdict_text import MEANING
from study.storage.contract import CONFIG_ATTR
from study.storage.heartbeat import retry_later
from study.storage.reruns import confirm_study_name, rerun_seeds

SCRIPT = Path(__file__).parents[2] / "experiments" / "results_readme.py"
SEEDS = 3


@pytest.fixture(scope="module")
def results_readme() -> ModuleType:
    spec = importlib.util.spec_from_file_location("results_readme", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A finished run as the driver leaves it: storage, steps.log, one trial cut off and
    trained again, the confirm study's record, and the analysis beside them."""
    results = tmp_path_factory.mktemp("results")
    url = f"sqlite:///{results / 'study.db'}"
    study = write_synthetic_study(url, "s", effect=0.0, n_trials=20, n_confirm_seeds=SEEDS,
                                  seed=3)
    study.set_user_attr(CONFIG_ATTR, {**study.user_attrs[CONFIG_ATTR], "n_trials": 20})
    first = study.trials[0]
    study.enqueue_trial(first.params)
    cut_off = study.ask(first.distributions)  # a session ended during this trial
    study.tell(cut_off, state=TrialState.FAIL)
    retry_later(study, study.trials[-1])
    again = study.ask()
    study.tell(again, 0.5)
    confirm = optuna.load_study(study_name=confirm_study_name("s"), storage=url)
    confirm.set_user_attr(CONFIG_ATTR, {"seeds": rerun_seeds(SEEDS), "source_trials": {},
                                        "train_images": 20000, "test_images": 10000})
    (results / "steps.log").write_text("2026-11-28 20:47:11 UTC search started\n")
    return url, results


def test_before_the_analysis_the_result_is_announced_not_invented(results_readme, run, tmp_path):
    url, results = run
    (tmp_path / "steps.log").write_text((results / "steps.log").read_text())

    text = results_readme.readme(url, "s", tmp_path, "bash run.sh")

    assert "None yet: `python -m analysis` runs when search and confirmation" in text
    assert "2026-11-28 20:47:11 UTC search started" in text
    assert "```bash\nbash run.sh\n```" in text


def test_the_readme_reports_the_stored_numbers(results_readme, run):
    url, results = run
    assert analysis_main(["--storage", url, "--study-name", "s", "--out", str(results),
                          "--importance-seeds", "1", "--no-note"]) == 0
    verdict = json.loads((results / "verdict.json").read_text())

    text = results_readme.readme(url, "s", results, "bash run.sh")

    mean, std = verdict["mean"], verdict["std"]
    assert (f"| confirmed test accuracy, mean ± std (confirm) | {mean['before']:.2%} ± "
            f"{std['before']:.2%} (n = {SEEDS}) | {mean['after']:.2%} ± {std['after']:.2%} "
            f"(n = {SEEDS}) |") in text
    assert "| blog, one untuned run each | 82.81% | 82.03% |" in text
    half = (verdict["ci_high"] - verdict["ci_low"]) * 50
    assert f"(half-width {half:.2f} pp)" in text
    assert f"verdict: **{verdict['verdict']}**: {MEANING[verdict['verdict']]}." in text
    assert (f"{2 * SEEDS} of {2 * SEEDS} reruns finished: each placement's best search trial ("
            in text)
    assert "(the study was created for 20)" in text
    assert "1 FAIL (1 of them cut off before their end" in text


def test_reruns_allocated_by_spread_are_counted_per_placement(results_readme, tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    write_synthetic_study(url, "s", effect=0.0, n_trials=4, n_confirm_seeds=SEEDS, seed=3)
    confirm = optuna.load_study(study_name=confirm_study_name("s"), storage=url)
    confirm.set_user_attr(CONFIG_ATTR, {"seeds": rerun_seeds(5), "allocation": "by-spread"})

    text = results_readme.readme(url, "s", tmp_path, "bash run.sh")

    assert (f"{2 * SEEDS} reruns finished ({SEEDS} before, {SEEDS} after; allocated by spread, "
            "at most 10): each placement's best search trial (") in text
    assert "stop at the first" not in text  # no stop rule was stored


def test_a_stored_stop_rule_is_stated(results_readme, tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    write_synthetic_study(url, "s", effect=0.0, n_trials=4, n_confirm_seeds=SEEDS, seed=3)
    confirm = optuna.load_study(study_name=confirm_study_name("s"), storage=url)
    confirm.set_user_attr(CONFIG_ATTR, {"seeds": rerun_seeds(5), "allocation": "by-spread",
                                        "stop_at_half_width": 0.005})

    text = results_readme.readme(url, "s", tmp_path, "bash run.sh")

    assert ("Reruns stop at the first that brings the 95% interval of after - before to "
            "\N{PLUS-MINUS SIGN}0.50 pp or less (`--stop-at-half-width 0.005`).") in text


def test_a_stored_decided_stop_rule_is_stated(results_readme, tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    write_synthetic_study(url, "s", effect=0.0, n_trials=4, n_confirm_seeds=SEEDS, seed=3)
    confirm = optuna.load_study(study_name=confirm_study_name("s"), storage=url)
    confirm.set_user_attr(CONFIG_ATTR, {"seeds": rerun_seeds(5), "allocation": "by-spread",
                                        "stop": "decided", "stop_at_half_width": None,
                                        "margin": 0.005, "alpha": 0.05, "minimum": 30})

    text = results_readme.readme(url, "s", tmp_path, "bash run.sh")

    assert ("Reruns stop at the first after which the anytime-valid 95% interval of after - "
            "before decides \"matters\" or \"equivalent\" at a margin of \N{PLUS-MINUS SIGN}0.50 "
            "pp, each placement having at least 30 (`--stop decided`)") in text


def test_a_hand_written_history_comes_last_one_heading_level_down(results_readme, run,
                                                                   tmp_path):
    url, results = run
    history = tmp_path / "history.md"
    history.write_text("# History\n\nThe search was resumed.\n\n## 2026-12-03\n\nRenamed.\n")

    text = results_readme.readme(url, "s", results, "bash run.sh", history)

    assert text.endswith("## History\n\nThe search was resumed.\n\n### 2026-12-03\n\nRenamed.\n")
    assert text.count("\n# ") == 0 and text.startswith("# BN placement")
