"""Analysis of a study: does its scientific choice (BN placement first) matter once the rest is
tuned? Of any single-objective Optuna study too: `analyze(study, param="optimizer", margin=...)`
reads it (either direction, values in their own units) and writes nothing into it;
`write_outputs` puts the report, verdict.json and figures in a folder (docs/own_code.md).

The sub-packages are the stages a verdict goes through, each importing only those before it
(tests/test_dependencies.py keeps the order): `reading/` (open the storage read-only, load the
studies as tables) -> `findings/` (the verdict and the evidence around it, as typed results, on
the statistics of `study.stats`) -> `study_analysis.py` (every finding of one study, `analyze`;
beside it `family_analysis.py`, a family of training budgets member by member) -> `figures/`
(drawing) and `reports/` (report.md, verdict.json, budgets.md, dashboard notes, files) -> the
command line `cli.py` (`python -m analysis`). `calibration/` measures the method itself on
synthetic studies with a known truth. `DEFAULT_SEEDS` is the number of confirmation reruns per
value `study.confirm` runs by default: the fewest the anytime verdict decides on.
"""

from __future__ import annotations

import importlib

# Loaded on first use (PEP 562): `python -m analysis` imports this package before its entry
# point, and pandas, scipy and scikit-learn take seconds to import, during which a Ctrl-C
# could not be reported as one line (see `study.cli.run_module`).
_EXPORTS = {
    "analysis.findings.boundary": ("Divergence", "EdgeWarning", "divergence", "edge_warnings"),
    "analysis.findings.expected_max": (
        "ExpectedMaxCurve", "expected_max", "expected_max_curve", "leader_by_budget",
    ),
    "analysis.findings.importance": ("ImportanceResult", "param_importances"),
    "analysis.findings.isolation": ("isolation_table",),
    "analysis.reading.studies": ("AnalysisError", "LoadedStudies", "load_studies", "open_storage"),
    "analysis.reading.objective": ("FRACTION", "Objective"),
    "analysis.reports.verdict_text": ("verdict_sentence",),
    "analysis.reports.writer": ("write_outputs",),
    "analysis.study_analysis": ("Analysis", "Decision", "analyze", "decide"),
    "analysis.family_analysis": ("FamilyAnalysis", "analyze_family"),
    "analysis.findings.provisional": ("compare_top_trials",),
    "study.stats.sequential": ("confidence_sequence",),
    "analysis.findings.verdict": (
        "ASSUMED_SEED_STD", "DEFAULT_SEEDS", "Comparison", "compare_placements",
    ),
    "study.stats.decision": ("DEFAULT_MARGIN",),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "ASSUMED_SEED_STD",
    "DEFAULT_MARGIN",
    "DEFAULT_SEEDS",
    "Analysis",
    "AnalysisError",
    "Comparison",
    "Decision",
    "Divergence",
    "EdgeWarning",
    "ExpectedMaxCurve",
    "FRACTION",
    "FamilyAnalysis",
    "ImportanceResult",
    "LoadedStudies",
    "Objective",
    "analyze",
    "analyze_family",
    "compare_placements",
    "compare_top_trials",
    "confidence_sequence",
    "decide",
    "divergence",
    "edge_warnings",
    "expected_max",
    "expected_max_curve",
    "isolation_table",
    "leader_by_budget",
    "load_studies",
    "open_storage",
    "param_importances",
    "verdict_sentence",
    "write_outputs",
]


def __getattr__(name: str) -> object:
    """Imports the submodule that defines `name` when it is first asked for."""
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'analysis' has no attribute {name!r}")
    value = getattr(importlib.import_module(_MODULE_OF[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
