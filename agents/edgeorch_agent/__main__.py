"""``python -m edgeorch_agent`` is the same as the ``edgeorch-agent`` command."""

import sys

from .cli import main

sys.exit(main())
