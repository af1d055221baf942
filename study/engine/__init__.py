"""The engine every training run of a study runs on: one set-up of data, inputs, space and
models from a `SearchConfig` (`setup`), shared by the search, the reruns and the benchmarks, and
the search that creates or resumes its study (`search_run`). May import everything below it
(`study.config`, tuning, data, model, storage, stats); never `study.reruns` or the commands.
"""
