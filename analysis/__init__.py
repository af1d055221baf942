"""Analysis of a BN-placement study: does placement matter once the rest is tuned?

Pure computation (loading, verdict, settling, robust, provisional, importance, isolation,
expected_max, boundary, pipeline) comes first; drawing (plots) and writing (report, writer)
second; the command line (`python -m analysis`) is a thin layer on top. `peeking` and
`simulate` simulate studies with a known truth. `DEFAULT_SEEDS` is the number of confirmation
reruns per placement `study.confirm` runs by default: the fewest the anytime verdict decides on.
"""

from __future__ import annotations

import importlib

# Loaded on first use (PEP 562): `python -m analysis` imports this package before its entry
# point, and pandas, scipy and scikit-learn take seconds to import, during which a Ctrl-C
# could not be reported as one line (see `study.cli.run_module`).
_EXPORTS = {
    "analysis.boundary": ("Divergence", "EdgeWarning", "divergence", "edge_warnings"),
    "analysis.expected_max": (
        "ExpectedMaxCurve", "expected_max", "expected_max_curve", "leader_by_budget",
    ),
    "analysis.importance": ("ImportanceResult", "param_importances"),
    "analysis.isolation": ("isolation_table",),
    "analysis.loading": ("AnalysisError", "LoadedStudies", "load_studies", "open_storage"),
    "analysis.pipeline": ("Analysis", "Decision", "analyze", "decide"),
    "analysis.provisional": ("compare_top_trials",),
    "study.stats.sequential": ("confidence_sequence",),
    "analysis.verdict": (
        "ASSUMED_SEED_STD", "DEFAULT_MARGIN", "DEFAULT_SEEDS", "Comparison", "compare_placements",
    ),
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
    "ImportanceResult",
    "LoadedStudies",
    "analyze",
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
