"""`python -m horus ...` runs the horus command (see horus._cli)."""

import sys

from horus._cli import main

sys.exit(main())
