"""One CLI: every leaf subcommand of ``deepimagine`` has a --help that says what it does, reads and writes."""

from __future__ import annotations

import argparse

from deepimagine_data.cli import build_parser


def _leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
        return
    for name, sp in subs[0].choices.items():
        yield from _leaves(sp, (*path, name))


def test_every_subcommand_describes_itself():
    leaves = dict(_leaves(build_parser()))
    top = {p[0] for p in leaves}
    assert {"build", "traces", "score", "submit", "leaderboard", "baseline", "train", "analyze"} <= top
    assert ("train", "sft") in leaves and ("train", "grpo") in leaves and ("analyze", "traces") in leaves
    short = [" ".join(p) for p, sp in leaves.items() if len(sp.description or "") < 60]
    assert not short, f"subcommands whose --help does not say what they read and write: {short}"


def test_python_m_runs_the_cli():
    # `python -m deepimagine_data` is the same command as `deepimagine` (for environments without the script on PATH)
    import subprocess
    import sys

    from deepimagine_data import __version__

    out = subprocess.run(
        [sys.executable, "-m", "deepimagine_data", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["deepimagine-data", __version__]
