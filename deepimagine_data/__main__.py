"""``python -m deepimagine_data ...`` runs the ``deepimagine`` command (for environments without the script on PATH)."""

import sys

from .cli import main

sys.exit(main())
