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

from .tables import unpacked

CITATION = """@misc{deepimagine2026,
  title = {DeepImagine: Predicting Clinical Trial Outcomes by Successive Counterfactual Imagining},
  year = {2026},
  eprint = {2604.23054},
  archivePrefix = {arXiv}
}"""


def card_template(name: str) -> Template:
    """``cards/<name>.md`` as a ``string.Template``."""
    return Template((resources.files("deepimagine_data.cards") / f"{name}.md").read_text(encoding="utf-8"))


def to_dataset_dict(splits: dict[str, pa.Table], features: Features) -> DatasetDict:
    from datasets.table import InMemoryTable

    return DatasetDict({s: Dataset(InMemoryTable(unpacked(t).cast(features.arrow_schema))) for s, t in splits.items()})


# The Hub's size_categories, by the rows of a dataset (all configs and splits)
_SIZES = [(10**3, "n<1K"), (10**4, "1K<n<10K"), (10**5, "10K<n<100K"), (10**6, "100K<n<1M"), (10**7, "1M<n<10M"),
          (10**8, "10M<n<100M"), (10**9, "100M<n<1B")]  # fmt: skip


def size_categories(tables: dict[str, dict]) -> list[str]:
    """The card's ``size_categories`` from the rows a build wrote (not a figure of the embedded sample).

    >>> size_categories({"trials": {"train": pa.table({"x": range(102_822)})}})
    ['100K<n<1M']
    """
    n = sum(t.num_rows for by_split in tables.values() for t in by_split.values())
    return [next((name for limit, name in _SIZES if n < limit), "n>1B")]


# What no card reads, left out of the tables the cards see: the rows' text is most of a corpus's bytes.
CARD_SKIPS = ("prompt", "completion", "messages", "rationale", "steps")


def card_view(t):
    """``t`` (a ``pa.Table`` or a ``PackedTable``) without :data:`CARD_SKIPS`, unpacked: what a card reads."""
    keep = [c for c in t.schema.names if c not in CARD_SKIPS]
    return t.select(keep)


def fingerprint(tables: dict[str, dict[str, pa.Table]]) -> str:
    from .tables import table_fingerprint

    return table_fingerprint({f"{c}/{s}": unpacked(t) for c, by_split in tables.items() for s, t in by_split.items()})


def write_corpus(
    out_root: str | os.PathLike,
    repo_id: str,
    tables: dict,
    info: dict,
    render_card: Callable[[dict, dict, str], tuple[str, dict]],
    default_config: str,
) -> Path:
    """Write ``out_root/<repo_id>`` (parquet per config and split + card): config -> split -> ``pa.Table`` or
    ``PackedTable``, streamed to parquet; the card is rendered from :func:`card_view` of the tables and the
    fingerprint of the rows written."""
    from .hub import write_hub_dataset

    view = {c: {s: card_view(t) for s, t in by.items()} for c, by in tables.items()}
    return write_hub_dataset(
        out_root, repo_id, tables, "", default_config=default_config, card=lambda fp: render_card(view, info, fp)
    )
