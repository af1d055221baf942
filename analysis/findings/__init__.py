"""What a loaded study shows, as small typed results, without drawing or writing: the verdict
and its intervals (`verdict`, from the statistics of `study.stats`), the provisional verdict of
the search (`provisional`), how many more reruns would settle it (`settling`), importance,
isolation, expected-max curves, the search-space boundary and divergence, instability, how the
rerun configurations were picked (`selection_view`), the reruns not from a clean commit
(`provenance`), the picks' learning curves (`learning_curves`) and, across a family of training
budgets, whether the verdict depends on the budget and where the picks plateau (`budgets`).
May import `analysis.reading` and `study`; never the figures, the reports, the calibration or
the command line.
"""
