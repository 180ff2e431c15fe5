"""``python -m isogate.cli``: the ``isogate`` command."""

import sys

from isogate.cli.main import main

sys.exit(main())
