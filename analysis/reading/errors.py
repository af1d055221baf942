"""The error of an input the analysis cannot read: one line stating the rule and the value, exit
code 2 at the command line (a `study.errors.UsageError`, hence a ValueError from the API)."""

from __future__ import annotations

from study.errors import UsageError

__all__ = ["AnalysisError"]


class AnalysisError(UsageError):
    """A problem with the input (storage, study, trials) that the user has to fix."""
