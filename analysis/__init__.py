"""Analysis of a BN-placement study: does placement matter once the rest is tuned?

Pure computation (loading, verdict, provisional, importance, isolation, expected_max,
boundary, pipeline) comes first; drawing (plots) and writing (report, writer) second; the
command line (`python -m analysis`) is a thin layer on top. `DEFAULT_SEEDS` is the number of
confirmation reruns per placement the verdict is calibrated for (see analysis.verdict).
"""

from __future__ import annotations

from analysis.boundary import Divergence, EdgeWarning, divergence, edge_warnings
from analysis.expected_max import (
    ExpectedMaxCurve,
    expected_max,
    expected_max_curve,
    leader_by_budget,
)
from analysis.importance import ImportanceResult, param_importances
from analysis.isolation import isolation_table
from analysis.loading import AnalysisError, LoadedStudies, load_studies, open_storage
from analysis.pipeline import Analysis, Decision, analyze, decide
from analysis.provisional import compare_top_trials
from analysis.verdict import (
    ASSUMED_SEED_STD,
    DEFAULT_MARGIN,
    DEFAULT_SEEDS,
    Comparison,
    compare_placements,
)

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
