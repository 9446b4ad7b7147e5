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

    return DatasetDict({s: Dataset(InMemoryTable(t.cast(features.arrow_schema))) for s, t in splits.items()})


def fingerprint(tables: dict[str, dict[str, pa.Table]]) -> str:
    from .tables import table_fingerprint

    return table_fingerprint({f"{c}/{s}": t for c, by_split in tables.items() for s, t in by_split.items()})


def write_corpus(
    out_root: str | os.PathLike,
    repo_id: str,
    tables: dict[str, dict[str, pa.Table]],
    info: dict,
    render_card: Callable[[dict, dict, str], tuple[str, dict]],
    default_config: str,
) -> Path:
    """Render the card from the tables and write ``out_root/<repo_id>`` (parquet per config and split + card)."""
    from .hub import write_hub_dataset

    body, meta = render_card(tables, info, fingerprint(tables))
    return write_hub_dataset(out_root, repo_id, tables, body, card_meta=meta, default_config=default_config)
