"""`python -m horus ...` runs the horus command (see horus.cli)."""

import sys

from horus.cli import main

sys.exit(main())
