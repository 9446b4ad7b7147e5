"""A build labels and pairs its trials partition by partition (``pipeline.BuildContext``), in forked workers: any
partition size and any number of workers must give the same datasets, funnel and drop counts as one pass over all
trials.

Data: the embedded sample (AACT oncology subset, CliniFact, dose-response, LLM meta-analysis), in the package.
"""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pytest

from deepimagine_data import pipeline
from deepimagine_data.question_rows import filter_across_trials, row_keys


@pytest.fixture(scope="module")
def whole():
    return pipeline.BuildContext(partition_trials=10**9).products()


@pytest.fixture(scope="module")
def small():
    # 97 trials at a time, labelled by two forked workers: neither the size nor the workers may change a row
    ctx = pipeline.BuildContext(partition_trials=97, workers=2)
    out = ctx.products()
    assert pipeline._FORKED is None  # the workers' context is not kept past the pool
    return out


def test_partitions_cover_every_trial_once_in_id_order():
    ctx = pipeline.BuildContext(partition_trials=500)
    parts = ctx.partitions()
    ids = [t for p in parts for t in p.to_pylist()]
    assert len(parts) == -(-ctx.tables["trials"].num_rows // 500)
    assert sorted(ids) == sorted(ctx.tables["trials"].column("trial_id").to_pylist())
    assert ids == sorted(ids, key=lambda t: t + ":")
    # a CliniFact copy of an AACT trial lands in another partition than the AACT record
    where = {t: i for i, p in enumerate(parts) for t in p.to_pylist()}
    both = [t for t in where if t.startswith("NCT") and f"clinifact/{t}" in where]
    assert len(both) >= 10
    assert all(where[t] != where[f"clinifact/{t}"] for t in both)


def test_any_partition_size_gives_the_same_rows(whole, small):
    assert small.partitions > 50 and whole.partitions == 1
    assert set(small.strict) == set(whole.strict)
    for kind, t in whole.strict.items():
        assert t.num_rows > 0
        assert len(small.strict[kind].pieces) > len(t.pieces)
        assert small.strict[kind].to_table().equals(t.to_table()), kind
    assert small.questions.equals(whole.questions)


def test_any_partition_size_gives_the_same_funnel(whole, small):
    assert small.labelled.steps == whole.labelled.steps
    assert small.strict_counts == whole.strict_counts
    assert small.question_counts == whole.question_counts
    # 27 trials are held by two sources: one source's questions are dropped across partitions
    assert whole.question_counts["trial_also_in_another_source"] > 0
    assert [c["comparison_id"] for c in small.usable] == [c["comparison_id"] for c in whole.usable]


def test_the_build_funnel_is_the_one_pass_funnel(whole):
    lab = pipeline.BuildContext(partition_trials=10**9).labelled()
    assert whole.labelled.steps == lab.steps
    assert whole.labelled.steps[1][1] == len(lab.comparisons)


def test_repeated_prompts_are_dropped_across_partitions(whole):
    """Two partitions holding one prompt each (a trial registered twice under two ids): kept once, as one pass
    would keep it; with different answers, both dropped."""
    t = whole.strict["strict_arm"].to_table().slice(0, 40)
    copy = t.set_column(
        t.schema.get_field_index("pair_id"),
        "pair_id",
        pa.array(["zz-copy:" + i for i in t.column("pair_id").to_pylist()]),
    )
    both = pa.concat_tables([t, copy])
    counts: Counter = Counter()
    kept = filter_across_trials(both, row_keys(t, "pair_id") + row_keys(copy, "pair_id"), "pair_id", counts)
    assert kept.column("pair_id").to_pylist() == t.column("pair_id").to_pylist()
    assert counts == Counter(repeated_prompt=40)

    flipped = copy.set_column(
        copy.schema.get_field_index("answer_index"),
        "answer_index",
        pa.array([1 - a for a in copy.column("answer_index").to_pylist()], copy.schema.field("answer_index").type),
    )
    counts = Counter()
    kept = filter_across_trials(
        pa.concat_tables([t, flipped]), row_keys(t, "pair_id") + row_keys(flipped, "pair_id"), "pair_id", counts
    )
    assert kept.num_rows == 0
    assert counts == Counter(same_prompt_different_answers=80)


def test_a_command_context_hands_each_product_over_once():
    ctx = pipeline.BuildContext(release=True)
    strict = ctx.take_strict()
    assert strict["strict_arm"].num_rows > 0
    assert ctx.take_strict() == {}
    questions = ctx.take_questions()
    assert questions.num_rows > 0 and ctx.take_questions().num_rows == 0
    shared = pipeline.BuildContext()
    assert shared.take_strict()["strict_arm"].num_rows == shared.take_strict()["strict_arm"].num_rows > 0


def test_options_must_match_the_context():
    ctx = pipeline.BuildContext(inputs=("embedded",))
    with pytest.raises(ValueError, match="build context reads"):
        pipeline.context_for(pipeline.BuildOptions(strict=True), ctx)
    with pytest.raises(ValueError, match="partition_trials"):
        pipeline.BuildContext(partition_trials=0)


def test_packed_rows_stream_to_the_bytes_of_the_whole_table(tmp_path, monkeypatch, whole):
    """A config written piece by piece (small shards and row groups, so both boundaries fall inside pieces) gives
    the files and fingerprint of the whole table written at once."""
    from deepimagine_data import hub, tables
    from deepimagine_data.tables import PackedTable, table_fingerprint, write_parquet

    monkeypatch.setattr(hub, "MAX_ROWS_PER_SHARD", 1_000)
    monkeypatch.setattr(hub, "ROW_GROUP", 300)
    monkeypatch.setattr(tables, "ROW_GROUP", 300)
    t = whole.strict["strict_arm"].to_table().slice(0, 2_345)
    packed = PackedTable.of([t.slice(0, 777), t.slice(777, 1), t.slice(778)], t.schema)
    digests: dict = {}
    hub._write_config(tmp_path / "packed", "c", {"train": packed}, "test", digests)
    for i in range(3):
        write_parquet(t.slice(i * 1_000, 1_000), tmp_path / f"train-{i:05d}-of-00003.parquet")
        assert (tmp_path / "packed" / "c" / f"train-{i:05d}-of-00003.parquet").read_bytes() == (
            tmp_path / f"train-{i:05d}-of-00003.parquet"
        ).read_bytes()
    assert tables.combine_digests(digests) == table_fingerprint({"c/train": t})


def test_workers_default_and_checked():
    assert pipeline.default_workers() in (1, 2)
    with pytest.raises(ValueError, match="workers must be >= 1"):
        pipeline.BuildContext(workers=0)
