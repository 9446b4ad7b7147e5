"""The one reader of a dataset folder (``hub.dataset_folder`` / ``hub.read_split``): a build's root, the dataset
folder itself, or a hub repo at a revision read through huggingface_hub's cache (the real offline path: a snapshot
the cache holds under ``refs/<tag>``), used by the scorer and the lm-eval tasks alike."""

from __future__ import annotations

import shutil

import pytest
from huggingface_hub import constants

from deepimagine_data.hub import dataset_folder, read_split
from deepimagine_data.scoring.questions import bench_questions

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def bench_root(built_bench):
    return built_bench


@pytest.fixture
def hub_cache(bench_root, tmp_path, monkeypatch):
    """A huggingface_hub cache holding deepimagine/bench at tag v0.3.0, as a download of that tag leaves it."""
    repo = tmp_path / "cache" / "datasets--deepimagine--bench"
    shutil.copytree(bench_root / "deepimagine" / "bench", repo / "snapshots" / COMMIT)
    (repo / "refs").mkdir()
    (repo / "refs" / "v0.3.0").write_text(COMMIT)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return repo


def test_root_and_folder_give_the_same_dataset(bench_root):
    folder = bench_root / "deepimagine" / "bench"
    assert dataset_folder(bench_root, "bench") == folder == dataset_folder(folder, "bench")
    test = read_split(folder, "questions", "test", ["question_id", "answer_index"])
    assert test.column_names == ["question_id", "answer_index"] and test.num_rows > 100
    assert len(bench_questions(bench_root)) == len(bench_questions(folder)) == test.num_rows


def test_missing_dataset_config_or_split_is_named(bench_root, tmp_path):
    with pytest.raises(FileNotFoundError, match="no deepimagine/pairs under this folder"):
        dataset_folder(bench_root, "pairs")
    folder = bench_root / "deepimagine" / "bench"
    with pytest.raises(FileNotFoundError, match=r"no config 'strict_arm' \(configs: questions; "):
        read_split(folder, "strict_arm", "test")
    with pytest.raises(FileNotFoundError, match=r"config 'questions' has no split 'dev' \(splits: test, train, valid"):
        read_split(folder, "questions", "dev")


def test_a_hub_repo_at_a_revision_reads_like_a_folder(hub_cache, bench_root):
    folder = dataset_folder("deepimagine/bench@v0.3.0", "bench")
    assert folder == hub_cache / "snapshots" / COMMIT
    assert dataset_folder("deepimagine/bench", "bench", revision="v0.3.0") == folder
    local = bench_questions(bench_root)
    assert [q.key for q in bench_questions("deepimagine/bench@v0.3.0")] == [q.key for q in local]


def test_a_revision_the_cache_lacks_offline_says_so(hub_cache):
    with pytest.raises(FileNotFoundError, match=r"deepimagine/bench at v9\.9\.9: not in the local hub cache"):
        bench_questions("deepimagine/bench@v9.9.9")


def test_a_rebuilt_folder_is_read_afresh(bench_root, tmp_path):
    """datasets caches ``load_dataset(folder, config)`` by the folder's path alone (datasets issue #2956): the
    package's loader names the shards instead, so rows rewritten in the same folder are the rows it returns."""
    import pyarrow.parquet as pq

    from deepimagine_data.train.data import load_split, resolve_source

    root = tmp_path / "hub"
    shutil.copytree(bench_root / "deepimagine", root / "deepimagine")
    src = resolve_source("deepimagine/bench", root)
    first = load_split(src, "questions", "test")
    (shard,) = (root / "deepimagine" / "bench" / "questions").glob("test-*.parquet")
    table = pq.read_table(shard)
    assert first.num_rows == table.num_rows > 10
    shard.unlink()  # a rebuild writes new files in place of the old
    pq.write_table(table.slice(0, 10), shard)
    again = load_split(resolve_source("deepimagine/bench", root), "questions", "test")
    assert again.num_rows == 10 and again["question_id"] == table.column("question_id").to_pylist()[:10]
