"""The network a trial trains: MobileNetV2 with BN placement as a switch, and search spaces.

`mobilenet_v2` builds it, `preprocessing` is its first layer, `precision` and `schedules` set
how it trains; `spaces` loads the `build(hp, context)` plugins of `search_spaces/` by name.
May import `study.storage.contract` and `study.errors`; never data, tuning or runs.
"""
