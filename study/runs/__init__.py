"""A search run from its `SearchConfig`: the one set-up of data, inputs, space and models,
and the search that creates or resumes its study. May import everything below it
(`study.config`, tuning, model, data, storage); never `study.reruns` or the commands.
"""
