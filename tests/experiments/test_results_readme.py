"""experiments/results_readme.py: the published study's README, written from what was stored."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import optuna
import pytest
from optuna.trial import TrialState

from analysis.calibration.simulate import write_synthetic_study
from analysis.cli import main as analysis_main
from analysis.reports.verdict_text import MEANING
from study.reruns.candidates import top_candidates
from study.storage.contract import CONFIG_ATTR
from study.storage.heartbeat import retry_later
from study.storage.question import DEFAULT_QUESTION
from study.storage.reruns import (
    SELECT_SEED_BASE,
    confirm_study_name,
    rerun_seeds,
    select_study_name,
    store_rerun,
)

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
    assert "## The answer at each training budget" not in text  # not a family
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


def test_a_family_gets_its_answer_at_each_budget_from_budgets_json(results_readme, tmp_path):
    from analysis.calibration.family import SyntheticMember, write_synthetic_family

    url = f"sqlite:///{tmp_path / 'study.db'}"
    write_synthetic_family(url, "fam", (SyntheticMember(8, -0.02, (0.86, 0.85), pairs=30),
                                        SyntheticMember(16, 0.0, (0.88, 0.879))))
    assert analysis_main(["--storage", url, "--study-name", "fam", "--budgets", "--out",
                          str(tmp_path), "--importance-seeds", "1", "--no-note"]) == 0
    record = json.loads((tmp_path / "budgets.json").read_text())

    text = results_readme.readme(url, "fam", tmp_path, "bash run.sh")

    section = text.split("## The answer at each training budget\n\n", 1)[1].split("\n## ")[0]
    assert section.startswith(f"**{record['sentence']}**")
    eight, sixteen = record["members"]
    assert (f"| [8](report.md) | matters | {eight['difference'] * 100:+.2f} pp | "
            f"[{eight['ci_low'] * 100:+.2f}, {eight['ci_high'] * 100:+.2f}] pp (anytime-valid "
            "95%) | 30, 30 | 86.00% (3 seeds) | 85.00% (3 seeds) |") in section
    assert (f"| [16](epochs-16/report.md) | {sixteen['verdict']} (provisional, from the "
            f"search) | {sixteen['difference'] * 100:+.2f} pp | [{sixteen['ci_low'] * 100:+.2f}, "
            f"{sixteen['ci_high'] * 100:+.2f}] pp (95%) | 2, 2 |") in section
    assert record["plateau"]["reading"] in section and "![budgets](budgets.png)" in section
    assert text.index("## Result") < text.index("## The answer at each training budget") < (
        text.index("## Search"))
    # A search too small to bound its interval (clipped to [-1, 1]) says so, as budgets.md does.
    sixteen |= {"ci_low": -1.0, "ci_high": 1.0}
    # A longer member whose search has just begun is named as not analysed yet.
    record["pending"] = [{"epochs": 32, "study_name": "fam/epochs-32",
                          "reason": "A verdict needs at least 2 COMPLETE trials."}]
    (tmp_path / "budgets.json").write_text(json.dumps(record))
    text = results_readme.readme(url, "fam", tmp_path, "bash run.sh")
    assert " pp | not yet bounded (95%) | 2, 2 |" in text
    assert ("\n\nNot analysed yet: 32 epochs (A verdict needs at least 2 COMPLETE trials).\n"
            in text)


def test_without_a_selection_study_the_readme_says_the_best_trial_is_confirmed(results_readme,
                                                                             run):
    url, results = run

    text = results_readme.readme(url, "s", results, "bash run.sh")

    assert ("## Selection\n\nNo selection study: each placement's best search trial is the one "
            "confirmed.") in text


def test_the_selection_is_counted_timed_and_listed_rerun_by_rerun(results_readme, tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    search = write_synthetic_study(url, "s", effect=0.0, n_trials=12, seed=3)
    candidates = top_candidates(search.trials, 2, DEFAULT_QUESTION)
    select = optuna.create_study(storage=url, study_name=select_study_name("s"),
                                 direction="maximize")
    select.set_user_attr(CONFIG_ATTR, {
        "top_k": 2, "seeds": 2, "train_images": 20000, "val_images": 5000,
        "candidates": {p: [t.number for t in found] for p, found in candidates.items()}})
    stored = 0
    for found in candidates.values():
        for trial in found:
            for seed in rerun_seeds(2, SELECT_SEED_BASE)[: 1 if stored == 6 else 2]:
                store_rerun(select, trial, seed, 0.8 + stored / 1000, question=DEFAULT_QUESTION,
                            loss=0.5, seconds=600.0, compiled_model="new",
                            dtype_policy="float32", loss_name="val_loss")
                stored += 1

    text = results_readme.readme(url, "s", tmp_path, "bash run.sh")

    before, after = ([t.number for t in candidates[p]] for p in ("before", "after"))
    assert (f"7 of 8 reruns finished: each placement's top 2 search trials (before: "
            f"{before[0]}, {before[1]}; after: {after[0]}, {after[1]}) retrained with 2 seeds "
            f"each (seeds {SELECT_SEED_BASE} to {SELECT_SEED_BASE + 1}) on 20000 training images "
            "and scored on 5000 validation images") in text
    assert "Time in training: 1.2 h." in text  # 7 reruns of 10 minutes
    rows = text.split("| placement | trial | seed | val_accuracy | train minutes |")[1]
    assert f"| before | {before[0]} | {SELECT_SEED_BASE} | 0.8000 | 10.0 |" in rows
    assert f"| after | {after[1]} | {SELECT_SEED_BASE} | 0.8060 | 10.0 |" in rows
    assert rows.split("\n## ")[0].count("\n| ") == 7  # one row per rerun


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


def _write_readme(results_readme, url: str, results: Path) -> int:
    return results_readme.main(["--storage", url, "--study-name", "s", "--results",
                                str(results), "--command", "bash run.sh"])


def test_a_readme_it_did_not_write_is_refused_and_left_unchanged(results_readme, run, tmp_path,
                                                                capsys):
    url, _ = run
    hand_written = "# Our results\n\nWritten by hand, `experiments/results_readme.py` aside.\n"
    (tmp_path / "README.md").write_text(hand_written)

    assert _write_readme(results_readme, url, tmp_path) == 2

    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"{results_readme.PROG}: error: `--results` must hold no README.md "
                          "or one written by this script"), err
    assert f"but {str(tmp_path / 'README.md')!r} was written by someone else" in err
    assert (tmp_path / "README.md").read_text() == hand_written
    assert sorted(path.name for path in tmp_path.iterdir()) == ["README.md"]


def test_a_readme_it_wrote_is_rewritten(results_readme, run, tmp_path):
    url, _ = run

    assert _write_readme(results_readme, url, tmp_path) == 0
    first = (tmp_path / "README.md").read_text()
    (tmp_path / "README.md").write_text(first.replace("## Settings", "## Old settings"))
    assert _write_readme(results_readme, url, tmp_path) == 0

    assert results_readme.MARKER in first.split("\n## ")[0]
    assert "## Old settings" not in (tmp_path / "README.md").read_text()
