"""Put an analysis on disk (report.md, verdict.json, trials.csv, PNGs) and in the dashboard."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from analysis import plots
from analysis.pipeline import Analysis
from analysis.report import dashboard_note, report_markdown, verdict_record

RESERVED_NAMES = {"importance", "isolation", "expected_max", "verdict", "report", "trials"}


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
    figures = {
        "verdict": plots.plot_comparison(analysis.compared, analysis.comparison, analysis.source),
        "isolation": plots.plot_isolation(analysis.isolation),
        "expected_max": plots.plot_expected_max(analysis.curves),
        "importance": plots.plot_importance(analysis.importance.table),
    }
    paths = {key: plots.save(ax, out_dir / f"{key}.png") for key, ax in figures.items()}
    for param in analysis.axis_params:
        stem = safe_name(param)
        stem = f"axis_{stem}" if stem in RESERVED_NAMES else stem
        ax = plots.plot_axis(analysis.loaded.trials, param, analysis.loaded.distributions[param])
        paths[param] = plots.save(ax, out_dir / f"{stem}.png")
    return paths


def write_outputs(analysis: Analysis, out_dir: str | Path, storage_url: str) -> Written:
    """Write report.md, verdict.json, trials.csv and the figures into out_dir (created).

    Args:
        analysis: The analysis.
        out_dir: Target folder.
        storage_url: Storage as the user named it (quoted in the report's next command).

    Returns:
        The paths written.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = write_figures(analysis, out_dir)
    axis_files = {param: figures[param].name for param in analysis.axis_params}
    trials_path = out_dir / "trials.csv"
    # Nullable dtypes keep integer columns with gaps (last_step of failed trials) integers.
    analysis.loaded.trials.convert_dtypes().to_csv(trials_path, index=False)
    verdict_path = out_dir / "verdict.json"
    verdict_path.write_text(json.dumps(verdict_record(analysis), indent=2) + "\n")
    report_path = out_dir / "report.md"
    report_path.write_text(report_markdown(analysis, storage_url, axis_files))
    return Written(report_path, verdict_path, trials_path, tuple(figures.values()))


def attach_note(analysis: Analysis, storage_url: str, report_path: Path) -> str:
    """Attach the verdict to the search study as an optuna-dashboard note.

    The note lives in the study's system attributes; the trials are not touched.

    Args:
        analysis: The analysis.
        storage_url: Storage as the user named it.
        report_path: Path of report.md.

    Returns:
        The note text.
    """
    import optuna_dashboard  # imported here: it takes seconds and only this step needs it

    text = dashboard_note(analysis, storage_url, str(report_path))
    optuna_dashboard.save_note(analysis.loaded.study, text)
    return text
