"""Retrieval of similar trials: a text view per trial, cached sentence embeddings and a faiss index.

Only ``text`` is imported eagerly; ``embed`` (torch, sentence-transformers) and ``index`` (faiss) come from the
``[embed]`` extra and load on first use, so ``import deepimagine_data.retrieval`` stays cheap and works without it.

>>> from deepimagine_data.retrieval import trial_texts, Embedder, VectorIndex  # doctest: +SKIP
>>> texts = trial_texts(tables)  # doctest: +SKIP
>>> vectors = Embedder().embed(list(texts.values()))  # doctest: +SKIP
>>> scores, ids = VectorIndex.build(vectors).search(vectors[:5], k=10)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .text import TEXT_VERSION, trial_text, trial_texts

if TYPE_CHECKING:
    from .embed import DEFAULT_MODEL, Embedder
    from .index import VectorIndex, recall_at_k

__all__ = ["DEFAULT_MODEL", "TEXT_VERSION", "Embedder", "VectorIndex", "recall_at_k", "trial_text", "trial_texts"]

_LAZY = {"DEFAULT_MODEL": "embed", "Embedder": "embed", "VectorIndex": "index", "recall_at_k": "index"}


def __getattr__(name: str):
    # PEP 562: the heavy modules are imported only when one of their names is asked for.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
