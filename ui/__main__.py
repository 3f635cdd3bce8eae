"""`python -m ui`."""

from __future__ import annotations

import sys

from ui.cli import main

sys.exit(main())
