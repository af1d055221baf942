"""Reruns of the search's best configurations with new seeds: the selection's on validation
(`selection_reruns`, its candidates and pick in `candidates`), the confirmation's on test
(`confirmation`), which rerun comes next (`allocation`) and when to stop (`stopping`, on the
statistics of `study.stats`). May import `study.engine` and everything below it; never the
commands, never `analysis`.
"""
