"""``python -m deepimagine_data.leaderboard submit|leaderboard ...``: the two commands without the rest of the CLI."""

import sys

from .cli import main

if __name__ == "__main__":  # importing the module (the doctest collector does) runs nothing
    sys.exit(main())
