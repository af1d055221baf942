"""The built-in search spaces: one module per space, each a plain `build(hp, context)` function.

A space is chosen by its module's name (`--search-space bn_placement`) and loaded by
`study.model.spaces`, which also takes the dotted path of a module of your own. The spaces import
`study` (the model, schedules and `SpaceContext`); `study` never imports this package.
"""
