"""The `bnstudy` console script: one entry point whose subcommands are the modules' commands.

`bnstudy search ...` is `python -m study.search ...`, and so on for select, confirm, run,
snapshot, rename and analyse (`python -m analysis`). Nothing here but the dispatch
(`bnstudy.cli`).
"""
