"""``deepimagine leaderboard``'s output: the page and the Markdown, written from the store in one go."""

from __future__ import annotations

import os
from pathlib import Path

from ..fsutil import atomic_write_bytes
from .markdown import render_markdown
from .page import render_html
from .references import board_references
from .schema import CONFIG, DEFAULT_STORE, LeaderboardError
from .store import read_store, store_folder


def render(
    store: str | os.PathLike = DEFAULT_STORE,
    out: str | os.PathLike = "site",
    *,
    source: str | os.PathLike | None = None,
    hub: str | os.PathLike | None = None,
) -> tuple[Path, Path]:
    """Write ``out/index.html`` and ``out/leaderboard.md`` from the store (each atomically); their paths.

    Each board gets its chance and majority reference rows when its questions are found offline (``source``: CT
    Open's pickles, default ``$DEEPIMAGINE_CTOPEN_DIR`` or the download cache; ``hub``: a built bench, whose train
    split gives majority's answer shares), see :func:`~deepimagine_data.leaderboard.board_references`.
    """
    folder = store_folder(store)
    if not (folder / CONFIG).is_dir():
        raise LeaderboardError(f"no leaderboard store at {folder} (run `deepimagine submit` first, or pass --store)")
    table = read_store(store)
    references = board_references(table, source=source, hub=hub)
    out = Path(out)
    page, md = out / "index.html", out / "leaderboard.md"
    atomic_write_bytes(page, render_html(table, references).encode("utf-8"))
    markdown = "# DeepImagine leaderboard\n\n" + render_markdown(table, references=references)
    atomic_write_bytes(md, markdown.encode("utf-8"))
    return page, md
