"""``python -m deepimagine_data ...`` runs the ``deepimagine`` command (for environments without the script on PATH)."""

import sys

from .cli import main

if __name__ == "__main__":  # importing the module (the doctest collector does) runs nothing
    sys.exit(main())
