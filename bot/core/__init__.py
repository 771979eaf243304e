"""The bottom layer everything else stands on: clock, errors, catalogues, config, metrics.

Nothing here imports from the rest of Tandem: not storage, not the flows, not an
adapter, not the shell. The pure matching engine (``bot.matching``) sits beside it.
"""
