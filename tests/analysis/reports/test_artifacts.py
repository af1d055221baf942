"""The report's files as Optuna artifacts: listed through `optuna.artifacts`, never doubled."""

from __future__ import annotations

import optuna
from optuna.artifacts import FileSystemArtifactStore, get_all_artifact_meta

from analysis.reports.artifacts import default_artifact_dir, upload_report


def test_a_second_upload_replaces_the_contents_instead_of_adding_copies(tmp_path):
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 's.db'}", study_name="s")
    report, figure, table = tmp_path / "report.md", tmp_path / "verdict.png", tmp_path / "t.csv"
    report.write_text("first")
    figure.write_bytes(b"\x89PNG first")
    table.write_text("a,b\n")
    folder = tmp_path / "s-artifacts"

    assert upload_report(study, [report, figure, table], folder) == ["report.md", "verdict.png"]
    first = {meta.filename: meta.artifact_id for meta in get_all_artifact_meta(study)}
    report.write_text("second")
    assert upload_report(study, [report, figure], folder) == ["report.md", "verdict.png"]

    again = {meta.filename: meta.artifact_id for meta in get_all_artifact_meta(study)}
    assert again == first and set(again) == {"report.md", "verdict.png"}
    with FileSystemArtifactStore(folder).open_reader(again["report.md"]) as stored:
        assert stored.read() == b"second"


def test_the_store_sits_beside_a_sqlite_file_and_nowhere_by_default_for_a_server(tmp_path):
    assert default_artifact_dir(f"sqlite:///{tmp_path / 'studies' / 'x.db'}") == (
        tmp_path / "studies" / "x-artifacts")
    assert default_artifact_dir("postgresql://user:pw@host/db") is None
