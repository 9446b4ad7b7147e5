"""Trial retrieval: text views of real AACT trials, the embedding cache, and the faiss index.

Embeds 100 real trial texts once (~15 s with the model load on 2 cores). The HNSW recall check uses 2,000
synthetic unit vectors (i.i.d. Gaussian, the hardest case for a graph index: no clusters to walk along), not real
embeddings: embedding 2,000 real texts takes about a minute on 2 cores.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa
import pytest

pytest.importorskip("sentence_transformers")
pytest.importorskip("faiss")

from deepimagine_data.retrieval import TEXT_VERSION, trial_text, trial_texts  # noqa: E402
from deepimagine_data.retrieval.embed import DEFAULT_MODEL, Embedder, folder_revision, resolve_model  # noqa: E402
from deepimagine_data.retrieval.index import VectorIndex, recall_at_k  # noqa: E402
from deepimagine_data.retrieval.text import MAX_CHARS  # noqa: E402
from deepimagine_data.sources import aact  # noqa: E402

VENETOCLAX = "NCT03584009"  # Venetoclax + Fulvestrant vs Fulvestrant, phase 2, 2 arms, 8 outcomes (1 primary)
N_REAL = 100


def _rows(table: pa.Table, trial_id: str) -> list[dict]:
    return [r for r in table.to_pylist() if r["trial_id"] == trial_id]


@pytest.fixture(scope="module")
def tables(aact_oncology) -> dict[str, pa.Table]:
    """100 real AACT studies (evenly spaced NCT ids of the shipped oncology studies, plus NCT03584009); one of
    them has no posted results."""
    merck = aact_oncology
    ids = sorted(pl.read_parquet(merck / "studies.parquet", columns=["nct_id"])["nct_id"].to_list())
    picked = sorted(set(ids[:: len(ids) // (N_REAL - 1)][: N_REAL - 1]) | {VENETOCLAX})
    t, _ = aact.read(merck, require_results=False, nct_ids=picked, progress=False)
    assert t["trials"].num_rows == N_REAL
    return t


@pytest.fixture(scope="module")
def texts(tables) -> dict[str, str]:
    return trial_texts(tables)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("embeddings-cache")


@pytest.fixture(scope="module")
def embedded(texts, cache_dir):
    """(embedder, trial ids, vectors, stats after the first call) for the 100 real texts, into an empty cache."""
    emb = Embedder(cache_dir=cache_dir, progress=False)
    ids = sorted(texts)
    vectors = emb.embed([texts[i] for i in ids])
    return emb, ids, vectors, dict(emb.stats)


def _unit(n: int, dim: int, seed: int, clusters: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dim))
    if clusters:
        # Clustered like real embeddings (topics), so neighbours are meaningful rather than all equidistant.
        centers = rng.normal(size=(clusters, dim)) * 3
        x += centers[rng.integers(0, clusters, size=n)]
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32)


# -- text view ---------------------------------------------------------------------------------------------------


def test_text_of_a_real_trial(tables, texts):
    text = texts[VENETOCLAX]
    assert "Estrogen Receptor-positive (ER+)" in text and "Metastatic Breast Cancer" in text
    assert "Venetoclax" in text and "venetoclax 800 mg" in text and "fulvestrant 500 mg" in text
    assert "Fulvestrant (active comparator)" in text and "(experimental)" in text
    primary = [o["title"] for o in _rows(tables["outcomes"], VENETOCLAX) if o["outcome_type"] == "PRIMARY"]
    assert len(primary) == 1
    assert "Primary outcome: " + primary[0][:100] in text  # titles are capped, not dropped
    assert "Phase: phase 2." in text and "randomized" in text and "open label" in text
    assert "None" not in text and "none" not in text.lower().split()
    # Most discriminative first: conditions, then interventions, then arms, then the primary outcome.
    lines = text.splitlines()
    assert [ln.split(":")[0] for ln in lines[:4]] == ["Conditions", "Interventions", "Arms (2)", "Primary outcome"]
    assert len(text) <= MAX_CHARS
    assert TEXT_VERSION == "trial-text-v1"


def test_text_matches_trial_text_and_is_order_independent(tables, texts):
    # The batch path equals the per-trial function, and row order of the child tables does not matter.
    trial = _rows(tables["trials"], VENETOCLAX)[0]
    arms = _rows(tables["arms"], VENETOCLAX)
    ivs = _rows(tables["interventions"], VENETOCLAX)
    outs = _rows(tables["outcomes"], VENETOCLAX)
    assert trial_text(trial, arms, ivs, outs) == texts[VENETOCLAX]
    assert trial_text(trial, arms[::-1], ivs[::-1], outs[::-1]) == texts[VENETOCLAX]
    reversed_tables = {k: v.take(pa.array(range(v.num_rows - 1, -1, -1), type=pa.int64())) for k, v in tables.items()}
    assert trial_texts(reversed_tables) == texts
    assert trial_texts(tables) == texts
    assert trial_texts({k: pl.from_arrow(v) for k, v in tables.items()}) == texts  # polars frames work too


def test_text_population_geography_and_missing_fields():
    trial = {
        "trial_id": "X",
        "conditions": ["Lung Cancer", "lung cancer", None],
        "phase": "NA",
        "allocation": None,
        "masking": "DOUBLE",
        "sex": "FEMALE",
        "minimum_age": "18 Years",
        "maximum_age": "N/A",
        "countries": [f"Country {i}" for i in range(12)],
        "eligibility_criteria": "Inclusion Criteria:\n\n  * ECOG 0-1\n" + "word " * 500,
    }
    arms = [
        {"group_id": "X:A0", "group_type": "arm", "title": "Surgery", "arm_type": None},
        {"group_id": "X:O0:OG000", "group_type": "outcome", "title": "Result group", "arm_type": None},
    ]
    ivs = [{"intervention_id": "X:I0", "name": "Lobectomy", "normalized_name": None, "type": "PROCEDURE"}]
    text = trial_text(trial, arms, ivs, [])
    assert text.splitlines() == [
        "Conditions: Lung Cancer.",  # deduplicated case-insensitively, None dropped
        "Interventions: Lobectomy (procedure).",
        "Arms (1): Surgery.",  # the result group is not a protocol arm
        "Design: double masking.",  # phase NA and allocation None are left out
        "Population: female, ages 18 Years and older.",
        "Countries: " + "; ".join(f"Country {i}" for i in range(8)) + "; +4 more countries.",
        text.splitlines()[-1],
    ]
    assert text.splitlines()[-1].startswith("Eligibility: Inclusion Criteria: * ECOG 0-1 word")
    assert "None" not in text and "N/A" not in text
    assert trial_text({"trial_id": "Y"}, [], [], []) == ""
    long = trial_text({"conditions": [f"condition {i} " + "x" * 140 for i in range(8)]}, [], [], [])
    assert len(long) <= MAX_CHARS


# -- embeddings --------------------------------------------------------------------------------------------------


def test_embed_shape_norm_and_model(embedded):
    emb, ids, vectors, first = embedded
    assert vectors.shape == (N_REAL, 384) and vectors.dtype == np.float32 and vectors.flags.c_contiguous
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert emb.model_name == DEFAULT_MODEL and emb.dim == 384
    assert emb.model_revision.startswith("sha256-")
    # Every real text is distinct here, so each one was computed exactly once.
    assert first["computed"] == first["requested"] == len({v.tobytes() for v in vectors}) == N_REAL
    assert first["hits"] == 0 and first["shards_written"] == 1
    assert list(emb.shard_dir.glob("*.npz")) and (emb.shard_dir / "model.json").is_file()
    assert emb.embed([]).shape == (0, 384)


def test_cache_serves_repeats_without_computing(embedded, texts, cache_dir):
    emb, ids, vectors, _ = embedded
    batch = [texts[i] for i in ids]
    before = dict(emb.stats)
    again = emb.embed(batch)
    assert emb.stats["computed"] == before["computed"]
    assert emb.stats["hits"] - before["hits"] == N_REAL
    assert again.tobytes() == vectors.tobytes()

    fresh = Embedder(cache_dir=cache_dir, progress=False)
    assert fresh.model_revision == emb.model_revision  # stable across instances (a content hash of the folder)
    from_disk = fresh.embed(batch)
    assert fresh.stats["computed"] == 0 and fresh.stats["hits"] == N_REAL
    assert from_disk.tobytes() == vectors.tobytes()
    assert fresh._model is None  # all hits: the model was never loaded

    # Shuffled order and duplicates come back in the order asked for.
    order = [3, 0, 3, 7]
    np.testing.assert_array_equal(fresh.embed([batch[i] for i in order]), vectors[order])
    assert fresh.stats["computed"] == 0


def test_changed_text_is_embedded_again(embedded, texts, cache_dir):
    emb, ids, vectors, _ = embedded
    fresh = Embedder(cache_dir=cache_dir, progress=False)
    batch = [texts[i] for i in ids[:5]]
    batch[2] = batch[2] + "\nCountries: Norway."
    out = fresh.embed(batch)
    assert fresh.stats["computed"] == 1 and fresh.stats["hits"] == 4
    assert out[2].tobytes() != vectors[2].tobytes()
    np.testing.assert_array_equal(out[[0, 1, 3, 4]], vectors[[0, 1, 3, 4]])
    # The new vector is now on disk for the next process.
    assert Embedder(cache_dir=cache_dir, progress=False).embed(batch[2:3]).tobytes() == out[2].tobytes()


def test_several_devices_embed_through_one_pool_per_call(embedded, texts, tmp_path):
    """`--embedding-device cpu,cpu`: sentence-transformers' multi-process pool (one process per device, here two
    CPU processes) gives the vectors one device gives, for the real trial texts."""
    emb, ids, vectors, _ = embedded
    batch = [texts[i] for i in ids[:12]]
    two = Embedder(cache_dir=tmp_path, progress=False, device="cpu, cpu")
    assert two.devices == ["cpu", "cpu"] and two.device == "cpu"
    out = two.embed(batch)
    assert two.stats["computed"] == 12 and two.stats["shards_written"] == 1
    np.testing.assert_allclose(out, vectors[:12], atol=1e-5)


def test_model_revision_and_resolution():
    name, path = resolve_model(None)
    assert name == DEFAULT_MODEL and resolve_model(DEFAULT_MODEL) == (name, path)
    assert folder_revision(path) == folder_revision(path) == Embedder(progress=False).model_revision
    with pytest.raises(ValueError):
        Embedder(batch_size=0)


def test_near_duplicate_query_finds_its_source(embedded, texts):
    emb, ids, vectors, _ = embedded
    index = VectorIndex.build(vectors)
    assert index.kind == "flat"
    # A query that rewords a trial (lower case, last section dropped) must find that trial first.
    sources = [i for i in ids if texts[i].count("\n") >= 3][:10]
    assert VENETOCLAX in ids and len(sources) == 10
    queries = ["\n".join(texts[i].splitlines()[:-1]).lower() for i in sources]
    _, found = index.search(emb.embed(queries), k=1)
    assert [ids[j] for j in found[:, 0]] == sources


# -- index -------------------------------------------------------------------------------------------------------


def test_flat_is_exact(embedded):
    for vectors in (embedded[2], _unit(500, 64, seed=1)):
        queries = vectors[:20]
        scores, ids = VectorIndex.build(vectors, kind="flat").search(queries, k=10)
        dots = queries @ vectors.T
        expected = np.argsort(-dots, axis=1, kind="stable")[:, :10]
        np.testing.assert_array_equal(ids, expected)
        np.testing.assert_allclose(scores, np.take_along_axis(dots, expected, axis=1), atol=1e-5)


def test_hnsw_recall_on_2000_synthetic_vectors():
    vectors = _unit(2000, 384, seed=0)  # measured recall@10: 0.98 (clustered vectors give 1.0 even at efSearch 16)
    queries = vectors[np.random.default_rng(1).choice(2000, size=200, replace=False)]
    exact = VectorIndex.build(vectors, kind="flat")
    hnsw = VectorIndex.build(vectors, kind="hnsw")
    assert hnsw.kind == "hnsw" and hnsw.ef_search == 64 and len(hnsw) == 2000
    assert recall_at_k(hnsw, exact, queries, k=10) >= 0.9
    assert recall_at_k(exact, exact, queries, k=10) == 1.0


def test_ivf_is_seeded_and_auto_switches():
    vectors = _unit(3000, 32, seed=2, clusters=20)
    a = VectorIndex.build(vectors, kind="ivf", seed=7)
    b = VectorIndex.build(vectors, kind="ivf", seed=7)
    assert a.nlist == 3000 // 39 and a.nprobe == 16
    np.testing.assert_array_equal(a.search(vectors[:50], 10)[1], b.search(vectors[:50], 10)[1])
    assert recall_at_k(a, VectorIndex.build(vectors, kind="flat"), vectors[:200], k=10) >= 0.8
    assert VectorIndex.build(vectors, exact_max=3000).kind == "flat"
    assert VectorIndex.build(vectors, exact_max=2999).kind == "hnsw"


def test_index_argument_checks():
    vectors = _unit(5, 8, seed=3)
    index = VectorIndex.build(vectors)
    scores, ids = index.search(vectors[0], k=50)  # one query as a 1-D vector; k beyond n is clamped
    assert ids.shape == (1, 5) and ids[0, 0] == 0
    with pytest.raises(ValueError):
        index.search(vectors[:, :4], k=1)
    with pytest.raises(ValueError):
        VectorIndex.build(vectors, kind="lsh")
    with pytest.raises(ValueError):
        VectorIndex.build(np.zeros((0, 8), dtype=np.float32))
    with pytest.raises(AttributeError):
        index.ef_search = 10
