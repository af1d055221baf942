"""The anytime-valid interval for after - before, as `analysis` offers it.

`confidence_sequence(after, before, *, alpha=0.05, paired=False)` is defined in
`study.reruns.sequential`, where the stop rule of `study.confirm --stop decided` uses it too:
`study` must not import `analysis`, and one definition keeps the stop rule and the verdict from
disagreeing. The construction, its references and why it was chosen are in that module's
docstring.
"""

from __future__ import annotations

from study.reruns.sequential import confidence_sequence, mean_sequence

__all__ = ["confidence_sequence", "mean_sequence"]
