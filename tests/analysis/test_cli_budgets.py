"""`python -m analysis --budgets`: every member's report, then the family's budgets.md,
budgets.json and figures, uploaded beside the first study's report (not the JSON); a study
without longer members is one line."""

from __future__ import annotations

import json

import optuna
from optuna.artifacts import get_all_artifact_meta
from optuna.distributions import CategoricalDistribution

from analysis.cli import build_parser, main
from analysis.reports.writer import MANIFEST

FAMILY, ALONE = "fam", "alone"  # see conftest.py
FAST = ["--importance-seeds", "1"]
FAMILY_FILES = ["budgets.md", "budgets.json", "budgets.png", "budget_learning_curves.png"]


def test_each_member_is_analysed_into_its_folder_and_the_family_beside_the_first(
        family_url, tmp_path, capsys):
    out = tmp_path / "out"

    code = main(["--storage", family_url, "--study-name", FAMILY, "--out", str(out),
                 "--budgets", *FAST])

    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    assert lines[0].startswith("At 8 epochs: Verdict (from the confirmation reruns): matters")
    assert lines[0].endswith(f"Report: {out / 'report.md'}")
    assert lines[2].startswith("At 16 epochs: Verdict (from the confirmation reruns): "
                               "equivalent")
    assert lines[2].endswith(f"Report: {out / 'epochs-16' / 'report.md'}")
    assert lines[4] == ("The verdict depends on the budget: 'matters' at 8 epochs, "
                        f"'equivalent' at 16. Budgets: {out / 'budgets.md'}")
    assert lines[5].startswith(f"3 budget files are artifacts of '{FAMILY}' in ")
    for folder, study_name in ((out, FAMILY), (out / "epochs-16", f"{FAMILY}/epochs-16")):
        verdict = json.loads((folder / "verdict.json").read_text())
        assert verdict["study_name"] == study_name and verdict["source"] == "confirm"
        assert (folder / "report.md").stat().st_size > 0
    for name in FAMILY_FILES:
        assert (out / name).stat().st_size > 0, name
    assert not (out / "epochs-16" / "budgets.md").exists()
    record = json.loads((out / MANIFEST).read_text())
    assert record["study_name"] == FAMILY and set(FAMILY_FILES) <= set(record["files"])
    first = optuna.load_study(study_name=FAMILY, storage=family_url)
    uploaded = {meta.filename for meta in get_all_artifact_meta(first)}
    # The dashboard shows the reports and figures; the JSON is for programs, as verdict.json.
    shown = {name for name in FAMILY_FILES if not name.endswith(".json")}
    assert {"report.md", "verdict.png", *shown} <= uploaded and "budgets.json" not in uploaded
    longer = optuna.load_study(study_name=f"{FAMILY}/epochs-16", storage=family_url)
    assert "budgets.md" not in {meta.filename for meta in get_all_artifact_meta(longer)}
    report = (out / "report.md").read_text()
    assert "## Reruns not from a clean commit" in report  # the 8-epoch reruns are dirty
    assert "## Reruns not from a clean commit" not in (out / "epochs-16" / "report.md"
                                                       ).read_text()


def test_run_again_the_family_replaces_its_own_files(family_url, tmp_path, capsys):
    argv = ["--storage", family_url, "--study-name", FAMILY, "--out", str(tmp_path / "out"),
            "--budgets", "--no-note", *FAST]

    assert main(argv) == 0
    assert main(argv) == 0
    assert "Budgets:" in capsys.readouterr().out


def test_a_study_without_longer_members_is_one_line_and_exit_2(family_url, tmp_path, capsys):
    out = tmp_path / "out"

    code = main(["--storage", family_url, "--study-name", ALONE, "--out", str(out),
                 "--budgets"])

    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("python -m analysis: error: `--budgets` needs a family of two "
                           "budgets or more")
    assert not out.exists()


def test_a_longer_member_is_refused_and_an_out_holding_other_files_before_any_work(
        family_url, tmp_path, capsys):
    out = tmp_path / "out"
    (out / "epochs-16").mkdir(parents=True)
    (out / "epochs-16" / "report.md").write_text("mine")

    longer = main(["--storage", family_url, "--study-name", f"{FAMILY}/epochs-16",
                   "--budgets", "--out", str(out)])
    foreign = main(["--storage", family_url, "--study-name", FAMILY, "--budgets", "--out",
                    str(out)])

    first, second = capsys.readouterr().err.strip().splitlines()
    assert (longer, foreign) == (2, 2)
    assert "must name the family's first study with --budgets, 'fam'" in first
    assert f"{out / 'epochs-16'} holds report.md that it did not write" in second
    assert sorted(path.name for path in out.iterdir()) == ["epochs-16"]  # nothing written


def test_a_longer_member_early_in_its_search_is_left_out_and_named(family_url, tmp_path,
                                                                   capsys):
    # As a family read while it runs: the longest member's search has just begun.
    longest = optuna.create_study(storage=family_url, study_name=f"{FAMILY}/epochs-32",
                                  direction="maximize")
    longest.add_trial(optuna.trial.create_trial(
        value=0.8, params={"bn_position": "before"},
        distributions={"bn_position": CategoricalDistribution(["before", "after"])}))
    out = tmp_path / "out"

    code = main(["--storage", family_url, "--study-name", FAMILY, "--budgets", "--out",
                 str(out), *FAST])

    printed = capsys.readouterr().out
    assert code == 0
    assert ("At 32 epochs: not analysed yet: A verdict needs at least 2 COMPLETE trials with "
            "a finite value per `bn_position`, but the study has before: 1, after: 0.") in printed
    assert not (out / "epochs-32").exists() and (out / "epochs-16" / "report.md").is_file()
    assert ("Not analysed yet: 32 epochs (`fam/epochs-32`: A verdict needs at least 2 COMPLETE "
            "trials") in (out / "budgets.md").read_text()
    record = json.loads((out / "budgets.json").read_text())
    assert [member["epochs"] for member in record["members"]] == [8, 16]
    assert [(p["epochs"], p["study_name"]) for p in record["pending"]] == [(32, "fam/epochs-32")]


def test_a_first_member_without_enough_trials_is_one_line_and_nothing_is_written(tmp_path,
                                                                                capsys):
    from study.storage.contract import CONFIG_ATTR

    url = f"sqlite:///{tmp_path}/early.db"
    for name, epochs in (("early", 8), ("early/epochs-16", 16)):
        study = optuna.create_study(storage=url, study_name=name, direction="maximize")
        study.set_user_attr(CONFIG_ATTR, {"epochs": epochs})
        study.add_trial(optuna.trial.create_trial(
            value=0.8, params={"bn_position": "before"},
            distributions={"bn_position": CategoricalDistribution(["before", "after"])}))
    out = tmp_path / "out"

    code = main(["--storage", url, "--study-name", "early", "--budgets", "--out", str(out),
                 *FAST])

    (line,) = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert line.startswith("python -m analysis: error: At 8 epochs ('early'): A verdict needs "
                           "at least 2 COMPLETE trials")
    assert not out.exists()


def test_help_names_the_flag():
    assert "--budgets" in build_parser().format_help()
