"""The ``isogate`` command: a client of the gateway's HTTP API, plus ``serve``/``migrate``.

Entry point: :func:`isogate.cli.main.main` (the console script; ``python -m isogate.cli``).
"""
