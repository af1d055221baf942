"""What a loaded study shows, as small typed results, without drawing or writing: the verdict
and its intervals (`verdict`, from the statistics of `study.stats`), the provisional verdict of
the search (`provisional`), how many more reruns would settle it (`settling`), importance,
isolation, expected-max curves, the search-space boundary and divergence, instability, and how
the rerun configurations were picked (`selection_view`). May import `analysis.reading` and
`study`; never the figures, the reports, the calibration or the command line.
"""
