"""What a platform adapter gets from the process that hosts it.

The runtime (settings, app.yaml, clock, database, messengers), the adapter
contract every folder in ``adapters/`` fulfils, what a platform folder declares
about itself (``platform.py``), and follow-up work that runs after a request
was answered. Adapters import this; the shell builds it.
"""
