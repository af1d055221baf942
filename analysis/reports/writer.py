"""Put an analysis on disk (report.md, verdict.json, trials.csv, PNGs) and in the dashboard; a
family's budgets.md and its figures beside its first member's report."""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from analysis.family_analysis import FamilyAnalysis
from analysis.figures import budget_plots, plots
from analysis.reading.studies import AnalysisError
from analysis.reports.budgets import BUDGET_FIGURES, budget_record, budgets_markdown
from analysis.reports.markdown import report_markdown
from analysis.reports.notes import confirm_note, dashboard_note
from analysis.reports.verdict_text import verdict_record
from analysis.study_analysis import Analysis

RESERVED_NAMES = {"importance", "isolation", "expected_max", "verdict", "report", "trials",
                  *(Path(name).stem for name in BUDGET_FIGURES.values())}
# What the analysis writes into --out, and its record of that: files it finds there that the
# record does not list, it did not write, and does not replace without --overwrite.
MANIFEST = ".bnstudy-report.json"
FIXED_FILES = ("report.md", "verdict.json", "trials.csv", "verdict.png", "isolation.png",
               "expected_max.png", "importance.png")
# Beside the first member's report.
FAMILY_FILES = ("budgets.md", "budgets.json", *BUDGET_FIGURES.values())


def safe_name(name: str) -> str:
    """Turn a study or parameter name into a file name: "/" and other odd characters -> "_".

    Args:
        name: Any name.

    Returns:
        A name made of letters, digits, ".", "-" and "_".
    """
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")
    return cleaned or "study"


def default_out_dir(study_name: str) -> Path:
    """Return reports/<study name, sanitized>."""
    return Path("reports") / safe_name(study_name)


@dataclass(frozen=True)
class Written:
    """Paths of everything written."""

    report: Path
    verdict: Path
    trials: Path
    figures: tuple[Path, ...]


def write_figures(analysis: Analysis, out_dir: Path) -> dict[str, Path]:
    """Draw every figure into out_dir.

    Args:
        analysis: The analysis.
        out_dir: Existing folder.

    Returns:
        Figure key (fixed names, or the parameter of an axis plot) -> path.
    """
    question, objective = analysis.loaded.question, analysis.loaded.objective
    figures = {
        "verdict": plots.plot_comparison(analysis.compared, analysis.comparison, analysis.source,
                                         question=question, objective=objective),
        "isolation": plots.plot_isolation(analysis.isolation, question=question,
                                          objective=objective),
        "expected_max": plots.plot_expected_max(analysis.curves, question=question,
                                                objective=objective),
        "importance": plots.plot_importance(analysis.importance.table),
    }
    paths = {key: plots.save(ax, out_dir / f"{key}.png") for key, ax in figures.items()}
    for param in analysis.axis_params:
        stem = safe_name(param)
        stem = f"axis_{stem}" if stem in RESERVED_NAMES else stem
        ax = plots.plot_axis(analysis.loaded.trials, param, analysis.loaded.distributions[param],
                             question=question, objective=objective)
        paths[param] = plots.save(ax, out_dir / f"{stem}.png")
    return paths


def check_out_dir(out_dir: str | Path, study_name: str | None = None, *,
                  overwrite: bool = False, files: tuple[str, ...] = FIXED_FILES) -> Path:
    """Refuses an output folder that cannot or must not be written, before any work is done.

    Args:
        out_dir: Target folder; it and its parents may not exist yet.
        study_name: The study the report is about; a folder holding another study's report
            is refused (two study names can give the same default folder).
        overwrite: Replace files there that the analysis did not write.
        files: The names the analysis is about to write there.

    Returns:
        out_dir as a Path.

    Raises:
        AnalysisError: when out_dir or a parent is a file, the nearest existing folder is not
            writable, or it holds files of these names that the analysis did not write (or
            another study's report), without `overwrite`.
    """
    out_dir = Path(out_dir)
    existing = out_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        where = "is" if existing == out_dir else f"lies below {existing}, which is"
        raise AnalysisError(f"`--out` must be a folder, but {out_dir} {where} a file; pass "
                            f"--out a folder to create or reuse.")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise AnalysisError(f"`--out` must be a folder you can write to, but {existing} is not "
                            f"writable; pass --out a folder of yours.")
    if out_dir.is_dir() and not overwrite:
        record = _manifest(out_dir)
        if study_name is not None and record.get("study_name", study_name) != study_name:
            raise AnalysisError(f"`--out` must not hold another study's report, but {out_dir} "
                                f"holds the report of {record['study_name']!r}; pass another "
                                "--out, or --overwrite.")
        foreign = sorted(name for name in files
                         if (out_dir / name).exists() and name not in record.get("files", ()))
        if foreign:
            raise AnalysisError(f"`--out` must be a new folder or one the analysis wrote, but "
                                f"{out_dir} holds {', '.join(foreign)} that it did not write; "
                                "pass another --out, or --overwrite to replace them.")
    return out_dir


def _manifest(out_dir: Path) -> dict:
    """What the analysis recorded writing into out_dir; empty when it wrote nothing there."""
    try:
        record = json.loads((out_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def write_outputs(analysis: Analysis, out_dir: str | Path, *, overwrite: bool = False
                  ) -> Written:
    """Write report.md, verdict.json, trials.csv and the figures into out_dir (created).

    Everything is written into a temporary folder beside out_dir first and moved into place
    at the end, so an error or a Ctrl-C midway leaves no half-written report.

    Args:
        analysis: The analysis.
        out_dir: Target folder.
        overwrite: Replace files the analysis did not write (see `check_out_dir`).

    Returns:
        The paths written.

    Raises:
        AnalysisError: when out_dir cannot or must not be written (see `check_out_dir`).
    """
    out_dir = check_out_dir(out_dir, analysis.study_name, overwrite=overwrite)
    with _staged_into(out_dir) as staging:
        figures = write_figures(analysis, staging)
        written = tuple(path.name for path in figures.values()) + (
            "trials.csv", "verdict.json", "report.md")
        # The axis plots are named after parameters: checked again, now that they are known.
        check_out_dir(out_dir, analysis.study_name, overwrite=overwrite, files=written)
        _record(staging, out_dir, analysis.study_name, written)
        axis_files = {param: figures[param].name for param in analysis.axis_params}
        # Nullable dtypes keep integer columns with gaps (last_step of failed trials) integers.
        analysis.loaded.trials.convert_dtypes().to_csv(staging / "trials.csv", index=False)
        verdict = json.dumps(verdict_record(analysis), indent=2) + "\n"
        (staging / "verdict.json").write_text(verdict)
        (staging / "report.md").write_text(report_markdown(analysis, axis_files))
    return Written(out_dir / "report.md", out_dir / "verdict.json", out_dir / "trials.csv",
                   tuple(out_dir / path.name for path in figures.values()))


def write_family_outputs(family: FamilyAnalysis, out_dir: str | Path, *,
                         overwrite: bool = False) -> tuple[Path, ...]:
    """Write a family's budgets.md and its figures into out_dir, the first member's folder.

    Staged like `write_outputs`; the folder's record lists them beside the first member's
    files (the family is named after its first study).

    Args:
        family: The family, each member analysed.
        out_dir: Target folder.
        overwrite: Replace files the analysis did not write (see `check_out_dir`).

    Returns:
        The paths written: budgets.md, budgets.json, then the figures.

    Raises:
        AnalysisError: when out_dir cannot or must not be written (see `check_out_dir`).
    """
    out_dir = check_out_dir(out_dir, family.family, overwrite=overwrite, files=FAMILY_FILES)
    with _staged_into(out_dir) as staging:
        _record(staging, out_dir, family.family, FAMILY_FILES)
        budgets_axes, _ = budget_plots.plot_budgets(family.budgets)
        plots.save(budgets_axes, staging / BUDGET_FIGURES["budgets"])
        curves_axes = budget_plots.plot_learning_curves(family.budgets)
        plots.save(curves_axes[0], staging / BUDGET_FIGURES["learning_curves"])
        (staging / "budgets.md").write_text(budgets_markdown(family))
        (staging / "budgets.json").write_text(json.dumps(budget_record(family), indent=2) + "\n")
    return tuple(out_dir / name for name in FAMILY_FILES)


def _record(staging: Path, out_dir: Path, study_name: str, written: tuple[str, ...]) -> None:
    """Stages the folder's record (MANIFEST): the files written now and those written before."""
    earlier = _manifest(out_dir).get("files", []) if out_dir.is_dir() else []
    (staging / MANIFEST).write_text(json.dumps(
        {"study_name": study_name, "files": sorted(set(earlier) | set(written))},
        indent=2) + "\n")


@contextmanager
def _staged_into(out_dir: Path) -> Iterator[Path]:
    """Yields an empty folder beside out_dir whose files are moved into out_dir at the end.

    A new out_dir is the staging folder renamed, in one step; into an existing one (an older
    report) each file moves with `os.replace`, so every file there is either the old or the new
    one, never half written. On an error or a Ctrl-C while writing, the staging folder is
    removed and out_dir is left as it was.
    """
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        # Not tempfile.mkdtemp: its folder is private (0700), and becomes the report's own.
        staging = out_dir.parent / f".{out_dir.name}.partial-{uuid.uuid4().hex[:8]}"
        staging.mkdir()
    except OSError as error:
        raise AnalysisError(f"`--out` must be a folder you can write to, but {out_dir} cannot "
                            f"be created: {error.strerror}; pass --out another folder.") from None
    try:
        yield staging
        if out_dir.is_dir():
            for path in staging.iterdir():
                os.replace(path, out_dir / path.name)
        else:
            staging.rename(out_dir)
    except OSError as error:
        raise AnalysisError(f"`--out` must be a folder you can write to, but writing into "
                            f"{out_dir} failed: {error.strerror}; pass --out another folder, "
                            f"or free some space.") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def attach_note(analysis: Analysis, report_path: Path) -> str:
    """Attach the verdict to the search study as an optuna-dashboard note.

    The note lives in the study's system attributes; the trials are not touched. When the
    verdict comes from the reruns, their confirmation study gets a note of its own
    (`confirm_note`).

    Args:
        analysis: The analysis.
        report_path: Path of report.md.

    Returns:
        The note text.
    """
    import optuna_dashboard  # imported here: it takes seconds and only this step needs it

    text = dashboard_note(analysis, str(report_path))
    optuna_dashboard.save_note(analysis.loaded.study, text)
    reruns_text = confirm_note(analysis, str(report_path))
    if reruns_text is not None and analysis.loaded.confirm_study is not None:
        optuna_dashboard.save_note(analysis.loaded.confirm_study, reruns_text)
    return text
