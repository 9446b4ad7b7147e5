"""What every corpus builder in ``builders/`` shares: the citation, the card template, DatasetDict and hub writing.

A builder module keeps its own constants header (BigBIO style) and its ``build_tables``/``render_card``; the
mechanics around them live here once.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from string import Template

import pyarrow as pa
from datasets import Dataset, DatasetDict, Features

from .hub import CARD_KEY, size_category
from .tables import PackedTable, unpacked

PAPER_URL = "https://arxiv.org/abs/2604.23054"
CITATION = """@misc{zheng2026deepimagine,
  title = {DeepImagine: Learning Biomedical Reasoning via Successive Counterfactual Imagining},
  author = {Zheng, Youze and Wang, Jianyou and Chen, Yuhan and Feng, Matthew and Bao, Longtian and Zhang, Hanyuan and
            Khan, Maxim and Sehgal, Aditya K. and Rosin, Christopher D. and Dube, Umber and Paturi, Ramamohan},
  year = {2026},
  eprint = {2604.23054},
  archivePrefix = {arXiv},
  url = {https://arxiv.org/abs/2604.23054}
}"""


def card_template(name: str) -> Template:
    """``cards/<name>.md`` as a ``string.Template``."""
    return Template((resources.files("deepimagine_data.cards") / f"{name}.md").read_text(encoding="utf-8"))


def to_dataset_dict(splits: dict[str, pa.Table], features: Features) -> DatasetDict:
    from datasets.table import InMemoryTable

    return DatasetDict({s: Dataset(InMemoryTable(unpacked(t).cast(features.arrow_schema))) for s, t in splits.items()})


def size_categories(tables: dict[str, dict]) -> list[str]:
    """The card's ``size_categories`` from the rows a build wrote (not a figure of the embedded sample).

    >>> size_categories({"trials": {"train": pa.table({"x": range(102_822)})}})
    ['100K<n<1M']
    """
    return [size_category(sum(t.num_rows for by_split in tables.values() for t in by_split.values()))]


# What no card reads, left out of the tables the cards see: the rows' text is most of a corpus's bytes.
CARD_SKIPS = ("prompt", "completion", "messages", "rationale", "steps")


def card_view(t):
    """``t`` (a ``pa.Table`` or a ``PackedTable``) without :data:`CARD_SKIPS`, unpacked: what a card reads."""
    keep = [c for c in t.schema.names if c not in CARD_SKIPS]
    return t.select(keep)


def fingerprint(tables: dict[str, dict[str, pa.Table]]) -> str:
    from .tables import table_fingerprint

    return table_fingerprint({f"{c}/{s}": unpacked(t) for c, by_split in tables.items() for s, t in by_split.items()})


# A card's example row shows each text cut to this many characters and each list to this many items: a prompt is
# ~2,000 tokens, and the row is there to show the shape.
EXAMPLE_CHARS = 300
EXAMPLE_ITEMS = 4


def clip_value(v):
    """A value as a card's example row shows it (JSON-ready): long text and long lists cut, dates as ISO text.

    >>> clip_value({"x": "a" * 301, "d": [1, 2, 3, 4, 5]})["d"]
    [1, 2, 3, 4, '…(+1 items)']
    >>> clip_value("a" * 301)[-12:]
    'a…(+1 chars)'
    """
    import datetime as dt

    if isinstance(v, str):
        return v if len(v) <= EXAMPLE_CHARS else f"{v[:EXAMPLE_CHARS]}…(+{len(v) - EXAMPLE_CHARS} chars)"
    if isinstance(v, list):
        out = [clip_value(x) for x in v[:EXAMPLE_ITEMS]]
        return out + ([f"…(+{len(v) - EXAMPLE_ITEMS} items)"] if len(v) > EXAMPLE_ITEMS else [])
    if isinstance(v, dict):
        return {k: clip_value(x) for k, x in v.items()}
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return v


def first_row(t) -> dict | None:
    """The first row of ``t`` (a ``pa.Table`` or a ``PackedTable``), or None when it has none."""
    for piece in t if isinstance(t, PackedTable) else [t]:
        if piece.num_rows:
            return piece.slice(0, 1).to_pylist()[0]
    return None


def example(tables: dict, config: str, split: str | None = None) -> dict | None:
    """The row a card shows: the first row of ``config``'s ``split``, else of its first split with rows, else of the
    first config with rows (a small build can leave splits empty), with where it is from (``config``, ``split``,
    ``row``); None when the build wrote no row at all."""
    order = [(config, split)] if split else []
    order += [(config, s) for s in tables[config]] + [(c, s) for c in tables for s in tables[c]]
    for c, s in order:
        row = first_row(tables[c][s])
        if row is not None:
            return {"config": c, "split": s, "row": row}
    return None


def deepimagine_meta(version: str, fingerprint: str) -> dict:
    """The front matter's ``deepimagine`` entry (:data:`~deepimagine_data.hub.CARD_KEY`): what ``deepimagine train``
    and ``deepimagine publish`` read (the corpus version, the fingerprint of the tables, the package that built
    them)."""
    from . import __version__

    return {CARD_KEY: {"version": version, "fingerprint": fingerprint, "package_version": __version__}}


def write_corpus(
    out_root: str | os.PathLike,
    repo_id: str,
    tables: dict,
    info: dict,
    render_card: Callable[[dict, dict, str], tuple[str, dict]],
    default_config: str,
    example_split: str | None = None,
) -> Path:
    """Write ``out_root/<repo_id>`` (parquet per config and split + card): config -> split -> ``pa.Table`` or
    ``PackedTable``, streamed to parquet; the card is rendered from :func:`card_view` of the tables, the fingerprint
    of the rows written, and ``info["example"]``: the first row of ``default_config`` (its ``example_split``)."""
    from .hub import write_hub_dataset

    view = {c: {s: card_view(t) for s, t in by.items()} for c, by in tables.items()}
    info = {**info, "example": example(tables, default_config, example_split)}
    return write_hub_dataset(
        out_root, repo_id, tables, "", default_config=default_config, card=lambda fp: render_card(view, info, fp)
    )
