"""Verified reasoning traces from a teacher model, published as the ``traces`` config of ``deepimagine/pairs``.

The flow of ``deepimagine traces``:

1. :func:`generate.read_pairs` reads the pair rows of the asked configs and splits from the local hub folder and
   checks each (id, ``prompt``, ``options``, ``answer_index``), raising a :class:`~deepimagine_data.errors.RecordError`
   that names the row and field.
2. :func:`prompt.teacher_messages` wraps a pair's own prompt in the versioned teacher template
   (``templates/trace-v1/``): explain how and why the result changes from the anchor to the target, end with
   ``DECISION: (p1, p2[, p3])``. The known answer is not in the request.
3. :class:`generate.Generator` asks for up to ``tries`` samples per pair (sample ``k`` with ``seed + k``), pairs in
   parallel on a thread pool, each request first looked up in the :class:`cache.ResponseCache` (append-only JSONL keyed
   by pair id and the sha256 of the exact request) and otherwise sent by :class:`client.ChatClient` (retries with
   backoff and jitter, ``Retry-After``).
4. :func:`verify.judge` keeps a sample or names why not (no decision, wrong option count, several decision lines, a
   tie, the wrong answer); the first kept sample ends the pair's tries. :func:`generate.tally` counts every sample.
5. :func:`generate.build_tables` makes one table per split (schema :data:`generate.TRACES`, sorted by ``pair_id``,
   dates and provenance from the cache only), and :func:`deepimagine_data.hub.add_config` swaps the ``traces``
   config into the dataset folder atomically with a ``## traces`` card section from :func:`report.card_section`.

>>> from deepimagine_data.traces import judge
>>> judge("Adding the dose raises exposure ...\\nDECISION: (0.15, 0.85)", 2, 1).keep
True
"""

from .generate import TRACES, Generator, Sampling, build_tables, read_pairs, tally
from .verify import REASONS, Verdict, judge

__all__ = ["TRACES", "REASONS", "Generator", "Sampling", "Verdict", "build_tables", "judge", "read_pairs", "tally"]
