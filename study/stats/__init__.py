"""The statistics of a verdict, in one home: the verdict rule and its margin, the anytime-valid
confidence sequence, Welch's and the paired t intervals with TOST, the robust summaries, and
the decision both the stop rule of `study.confirm` and the report of `analysis` read.

`study.reruns` stops on these functions and `analysis` reports from them, so the stop and the
verdict cannot disagree about a formula. May import only `study.errors`, numpy and scipy (scipy
inside the functions that need it, to keep the commands' start-up light); nothing else of
`study`, and never `analysis`.
"""
