"""Platform adapters: each translates one chat platform to the neutral flows and back.

One folder per platform. A folder whose ``__init__.py`` exposes ``PLATFORM`` (a
``bot.host.platform.Platform``) is served: ``bot/platforms.py`` finds it and
asks it for its settings, adapter, routes, checks and packaging commands.
``local/`` exposes none: it is the in-process platform of the tests and the demo.
"""
