"""``python -m paqshot_server`` runs the CLI (used to start worker child processes)."""

import sys

from .cli import main

sys.exit(main())
