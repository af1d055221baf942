"""The report's files as Optuna artifacts of the search study, for optuna-dashboard to show.

`optuna-dashboard STORAGE --artifact-dir DIR` lists a study's artifacts beside its note: the
analysis uploads report.md and its PNGs there (`optuna.artifacts`, a file-system store). The
store sits beside a SQLite storage by default (`default_artifact_dir`); other storages need a
folder named with `--artifact-dir`. An analysis run again replaces the content of the
artifacts it uploaded before (same artifact id, same file name) instead of adding copies:
Optuna has no way to delete an artifact's record that its own listing survives.
"""

from __future__ import annotations

from pathlib import Path

import optuna
from optuna.artifacts import FileSystemArtifactStore, get_all_artifact_meta, upload_artifact

from study.storage.opener import sqlite_file

__all__ = ["ARTIFACT_SUFFIX", "default_artifact_dir", "upload_report"]

ARTIFACT_SUFFIX = "-artifacts"  # studies/bnstudy.db -> studies/bnstudy-artifacts/
_UPLOADED = (".md", ".png")  # the report and its figures; the CSV and JSON are for programs


def default_artifact_dir(storage_url: str) -> Path | None:
    """The artifact folder beside a SQLite storage's file; None for other storages."""
    path = sqlite_file(storage_url)
    return None if path is None else path.with_name(path.stem + ARTIFACT_SUFFIX)


def upload_report(study: optuna.Study, files: list[Path], artifact_dir: Path) -> list[str]:
    """Uploads `files` (only .md and .png) as artifacts of `study`; returns their file names.

    A file whose name the study already has an artifact for replaces that artifact's content.
    """
    artifact_dir.mkdir(parents=True, exist_ok=True)
    store = FileSystemArtifactStore(artifact_dir)
    existing = {meta.filename: meta.artifact_id for meta in get_all_artifact_meta(study)}
    uploaded = []
    for path in sorted(files):
        if path.suffix not in _UPLOADED:
            continue
        if path.name in existing:
            with path.open("rb") as content:
                store.write(existing[path.name], content)
        else:
            upload_artifact(artifact_store=store, file_path=str(path), study_or_trial=study)
        uploaded.append(path.name)
    return uploaded
