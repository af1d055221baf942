from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import optuna
import optuna_dashboard
import pandas as pd
import pytest

from analysis.cli import main
from analysis.figures import plots
from analysis.reports.writer import MANIFEST

SEARCH_ONLY, CONFIRMED, ONE_RERUN = "bn/placement", "confirmed", "one_rerun"  # see conftest.py
FIGURES = [
    "importance.png",
    "isolation.png",
    "expected_max.png",
    "learning_rate.png",
    "verdict.png",
]
FAST = ["--importance-seeds", "2"]


def _snapshot(url: str, name: str) -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name=name, storage=url).get_trials(deepcopy=True)


def test_search_only_study_end_to_end(storage_url, verdict_contract, tmp_path, monkeypatch,
                                     capsys):
    monkeypatch.chdir(tmp_path)
    trials_before = _snapshot(storage_url, SEARCH_ONLY)

    code = main(["--storage", storage_url, "--study-name", SEARCH_ONLY, *FAST])

    out_dir = Path("reports") / "bn_placement"  # the "/" of the study name sanitized
    stdout, artifacts_line = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    assert stdout.startswith("Verdict (provisional, from the search): ")
    assert stdout.endswith(f"Report: {out_dir / 'report.md'}")
    folder = tmp_path / "studies-artifacts"  # beside the SQLite file
    assert artifacts_line.endswith(f"see them beside the note: optuna-dashboard {storage_url} "
                                   f"--artifact-dir {folder}")
    for name in ["report.md", "verdict.json", "trials.csv", *FIGURES]:
        assert (out_dir / name).stat().st_size > 0, name

    verdict = json.loads((out_dir / "verdict.json").read_text())
    assert list(verdict)[:len(verdict_contract)] == verdict_contract
    assert verdict["source"] == "search" and verdict["provisional"] is True
    assert verdict["verdict"] in {"matters", "equivalent", "inconclusive"}
    assert verdict["ci_low"] <= verdict["difference"] <= verdict["ci_high"]
    assert verdict["n_per_position"]["before"] == verdict["n_per_position"]["after"] >= 2

    report = (out_dir / "report.md").read_text()
    head = "\n".join(report.splitlines()[:5])
    assert "Verdict (provisional, from the search)" in head and "python -m study.confirm" in head
    for figure in FIGURES:
        assert f"]({figure})" in report, figure
    assert report.count("The figure shows") == report.count("![")

    trials_csv = pd.read_csv(out_dir / "trials.csv")
    assert len(trials_csv) == len(trials_before)
    columns = {"state", "value", "bn_position", "learning_rate", "alpha", "best_val_accuracy"}
    assert columns <= set(trials_csv.columns)

    study = optuna.load_study(study_name=SEARCH_ONLY, storage=storage_url)
    note = optuna_dashboard.get_note(study)
    assert note.startswith("## `bn_position` verdict") and stdout.split(" Report:")[0] in note
    # The report and its figures, as the dashboard lists them beside the note.
    metas = optuna.artifacts.get_all_artifact_meta(study)
    assert sorted(meta.filename for meta in metas) == sorted(["report.md", *FIGURES])
    store = optuna.artifacts.FileSystemArtifactStore(folder)
    (report_meta,) = [meta for meta in metas if meta.filename == "report.md"]
    with store.open_reader(report_meta.artifact_id) as stored:
        assert stored.read() == (out_dir / "report.md").read_bytes()
    assert _snapshot(storage_url, SEARCH_ONLY) == trials_before  # trials untouched


def test_confirmed_study_takes_the_verdict_from_the_reruns(storage_url, tmp_path):
    argv = ["--storage", storage_url, "--study-name", CONFIRMED, "--out", str(tmp_path), *FAST]

    code = main(argv)

    verdict = json.loads((tmp_path / "verdict.json").read_text())
    assert code == 0
    assert verdict["source"] == "confirm" and verdict["provisional"] is False
    assert verdict["n_per_position"] == {"before": 30, "after": 30}
    assert verdict["verdict"] == "matters" and verdict["difference"] > 0.005  # truth: +1 pp
    assert len(verdict["reproduced_search_trials"]["after"]) == 1
    assert "from the confirmation reruns" in (tmp_path / "report.md").read_text().splitlines()[2]
    confirm = optuna.load_study(study_name=f"{CONFIRMED}/confirm", storage=storage_url)
    note = optuna_dashboard.get_note(confirm)
    source = verdict["reproduced_search_trials"]["after"][0]
    assert note.startswith(f"## Confirmation reruns of `{CONFIRMED}`")
    assert f"- after: search trial {source} (" in note and "cannot tell them apart" in note
    assert "**Verdict (from the confirmation reruns): matters" in note


def test_too_few_reruns_fall_back_to_the_search_with_a_note(storage_url, tmp_path):
    argv = [
        "--storage",
        storage_url,
        "--study-name",
        ONE_RERUN,
        "--out",
        str(tmp_path),
        "--no-note",
    ]

    code = main([*argv, *FAST])

    assert code == 0
    assert json.loads((tmp_path / "verdict.json").read_text())["source"] == "search"
    assert "too few COMPLETE reruns (before: 1, after: 1" in (tmp_path / "report.md").read_text()
    study = optuna.load_study(study_name=ONE_RERUN, storage=storage_url)
    assert optuna_dashboard.get_note(study) == ""  # --no-note
    confirm = optuna.load_study(study_name=f"{ONE_RERUN}/confirm", storage=storage_url)
    assert optuna_dashboard.get_note(confirm) == ""


BAD_INPUT = [
    # (arguments with {url} and {tmp} placeholders, expected message fragment)
    (
        ["--storage", "sqlite:///{tmp}/missing.db", "--study-name", "s"],
        "must name an existing SQLite file",
    ),
    (["--storage", "nodriver://host/db", "--study-name", "s"], "must be a database URL"),
    (["--storage", "{url}", "--study-name", "absent"], "'absent' is not there (studies: bn/"),
    (["--storage", "{url}", "--study-name", "no_bn"], "must have trials with the parameter"),
    (
        ["--storage", "{url}", "--study-name", "lopsided"],
        "at least 2 COMPLETE trials with a finite",
    ),
    (["--storage", "{url}", "--study-name", "lopsided", "--margin", "0"],
     "must be a fraction of accuracy in (0, 1)"),
    (["--storage", "{url}", "--study-name", "lopsided", "--margin", "1"], "but got 1.0"),
    (["--storage", "{url}", "--study-name", "lopsided", "--margin", "-0.1"], "but got -0.1"),
    (["--storage", "{url}", "--study-name", "lopsided", "--margin", "abc"], "invalid float value"),
    (["--storage", "{url}", "--study-name", "x", "--importance-seeds", "0"], "must be at least 1"),
    (["--storage", "{url}", "--study-name", "x", "--importance-seeds", "101"], "at most 100"),
    (["--storage", "{url}", "--study-name", ""], "`--study-name` must name a study with at least"),
    (["--storage", "{url}", "--study-name", "  "], "at least one visible character, but got '  '"),
    (["--storage", "{url}", "--study-name", "x", "--out", "{db}"], "must be a folder, but"),
    (["--storage", "{url}", "--study-name", "x", "--out", "{db}/sub"], "which is a file"),
    (["--storage", "{url}"], "the following arguments are required: --study-name"),
    (["--storage", "{url}", "--study-name", "x", "--out", ""], "`--out` must name a folder, but "
                                                             "got '', which would write into"),
    (["--storage", "{url}", "--study-name", "x/confirm"], "must not end in '/confirm', which "
                                                          "names the reruns of a search"),
]


@pytest.mark.parametrize(("arguments", "message"), BAD_INPUT)
def test_bad_input_is_one_line_and_exit_code_2(arguments, message, studies_db, tmp_path, capsys):
    url = f"sqlite:///{studies_db}"  # the shared file: a failed analysis must not change it
    argv = [a.format(url=url, tmp=tmp_path, db=studies_db) for a in arguments]

    code = main(argv)

    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1 and "Traceback" not in captured.err
    assert message in captured.err
    assert not (tmp_path / "missing.db").exists()  # SQLAlchemy did not create it


def test_module_entry_point_reports_bad_input_without_traceback(tmp_path):
    missing = f"sqlite:///{tmp_path}/nope.db"
    result = subprocess.run(
        [sys.executable, "-m", "analysis", "--storage", missing, "--study-name", "s"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("python -m analysis: error: `storage` must name an existing")


def _one_error_line(captured: pytest.CaptureResult, start: str) -> str:
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1 and "Traceback" not in captured.err
    assert captured.err.startswith(start)
    return captured.err


def test_an_unwritable_out_is_refused_before_any_work(storage_url, tmp_path, capsys, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    if os.access(locked, os.W_OK):  # root may write anyway: answer as for any other user
        real_access = os.access
        monkeypatch.setattr(
            os, "access", lambda path, mode: Path(path) != locked and real_access(path, mode)
        )
    argv = ["--storage", storage_url, "--study-name", SEARCH_ONLY, "--out", str(locked / "r")]

    code = main(argv)

    assert code == 2
    err = _one_error_line(capsys.readouterr(), "python -m analysis: error: `--out` must be")
    assert "not writable" in err and not list(locked.iterdir())


def test_an_out_that_fails_while_moving_files_in_is_one_line_and_leaves_no_staging(
    storage_url, tmp_path, capsys
):
    out = tmp_path / "report"
    _earlier_report(out, SEARCH_ONLY, "verdict.json", "report.md")
    (out / "verdict.json").write_text("old")
    (out / "report.md").mkdir()  # a folder where the report must go: moving it there fails
    argv = ["--storage", storage_url, "--study-name", SEARCH_ONLY, "--out", str(out), *FAST]

    code = main([*argv, "--no-note"])

    assert code == 2
    err = _one_error_line(capsys.readouterr(), "python -m analysis: error: `--out` must be")
    assert f"writing into {out} failed" in err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["report", "studies.db"]


def _earlier_report(out, study_name: str, *names: str) -> None:
    """A folder an earlier analysis of `study_name` wrote `names` into (its record only)."""
    out.mkdir()
    (out / MANIFEST).write_text(json.dumps({"study_name": study_name, "files": list(names)}))


def test_an_out_holding_files_the_analysis_did_not_write_is_refused(storage_url, tmp_path,
                                                                     capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "report.md").write_text("my own notes")
    argv = ["--storage", storage_url, "--study-name", SEARCH_ONLY, "--out", str(out), *FAST,
            "--no-note"]

    assert main(argv) == 2
    err = _one_error_line(capsys.readouterr(), "python -m analysis: error: `--out` must be")
    assert f"{out} holds report.md that it did not write; pass another --out, or " \
           "--overwrite" in err
    assert [path.name for path in out.iterdir()] == ["report.md"]
    assert (out / "report.md").read_text() == "my own notes"

    assert main([*argv, "--overwrite"]) == 0
    assert (out / "verdict.json").is_file() and (out / MANIFEST).is_file()
    capsys.readouterr()
    assert main(argv) == 0  # now the analysis wrote them: the same command runs again


def test_an_out_holding_another_studys_report_is_refused(storage_url, tmp_path, capsys):
    out = tmp_path / "report"
    _earlier_report(out, "bn_placement", "report.md")  # "bn/placement" gives the same folder

    argv = ["--storage", storage_url, "--study-name", SEARCH_ONLY, "--out", str(out), *FAST]
    assert main(argv) == 2
    assert "holds the report of 'bn_placement'" in capsys.readouterr().err


@pytest.mark.parametrize("existing", [False, True])
def test_ctrl_c_while_writing_leaves_no_partial_report(
    existing, storage_url, tmp_path, monkeypatch, capsys
):
    out = tmp_path / "report"
    if existing:
        _earlier_report(out, SEARCH_ONLY, "report.md")
        (out / "report.md").write_text("old report")
    saved = []
    real_save = plots.save

    def save_then_interrupt(ax, path):  # Ctrl-C once two figures are on disk
        saved.append(real_save(ax, path))
        if len(saved) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(plots, "save", save_then_interrupt)
    argv = ["--storage", storage_url, "--study-name", SEARCH_ONLY, "--out", str(out), *FAST]

    code = main(argv)

    assert code == 130
    _one_error_line(capsys.readouterr(), "python -m analysis: interrupted; no half-written")
    assert all(not path.exists() for path in saved)  # the staged figures are gone
    left = sorted(path.name for path in tmp_path.iterdir())
    assert left == (["report", "studies.db"] if existing else ["studies.db"])
    if existing:
        assert sorted(path.name for path in out.iterdir()) == [MANIFEST, "report.md"]
        assert (out / "report.md").read_text() == "old report"


def test_a_storage_inside_out_is_never_replaced_by_the_report(storage_url, tmp_path, capsys):
    out = tmp_path / "report"
    out.mkdir()
    storage = out / "verdict.json"  # the storage where the report would write its verdict
    storage.write_bytes(Path(storage_url[len("sqlite:///"):]).read_bytes())
    before = storage.read_bytes()
    argv = ["--storage", f"sqlite:///{storage}", "--study-name", SEARCH_ONLY, "--no-note",
            *FAST]

    for out_argv in (["--out", str(out)], ["--out", str(storage)]):
        assert main([*argv, *out_argv]) == 2
        assert "`--out` must be" in capsys.readouterr().err
    assert storage.read_bytes() == before
