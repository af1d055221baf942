"""Reruns of the search's best configurations on the test split: which rerun comes next, when
to stop, and the intervals both the stop rule and `analysis` use. May import `study.runs` and
everything below it; never the commands.
"""
