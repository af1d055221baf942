"""The error of an input the analysis cannot read: one line stating the rule and the value, exit
code 2 at the command line (a `study.errors.UsageError`, hence a ValueError from the API)."""

from __future__ import annotations

from study.errors import UsageError

__all__ = ["AnalysisError", "TooFewTrials"]


class AnalysisError(UsageError):
    """A problem with the input (storage, study, trials) that the user has to fix."""


class TooFewTrials(AnalysisError):
    """A study without enough finished trials for a verdict yet: one still early in its search
    (a family's longer member is left out until it has them)."""
