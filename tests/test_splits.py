"""Temporal splits and decontamination: boundaries, one split per registry trial, exclusions from train only."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from conftest import SHARED

from deepimagine_data import ctopen, pipeline
from deepimagine_data.pipeline import BuildOptions
from deepimagine_data.splits import Cutoffs, assign, split_table


@pytest.mark.parametrize(
    ("date", "split"),
    [
        (None, "train"),
        (dt.date(2008, 9, 2), "train"),
        (dt.date(2019, 12, 31), "train"),
        (dt.date(2020, 1, 1), "validation"),
        (dt.date(2020, 12, 31), "validation"),
        (dt.date(2021, 1, 1), "test"),
        (dt.date(2022, 6, 30), "test"),
    ],
)
def test_default_cutoffs(date, split):
    assert Cutoffs().split_of(date) == split


def test_cutoffs_must_be_ordered():
    with pytest.raises(ValueError, match="out of order"):
        Cutoffs(dt.date(2021, 1, 1), dt.date(2020, 1, 1))


def test_one_registry_trial_one_split():
    """CliniFact carries no dates; a CliniFact trial that AACT also holds takes AACT's date and split."""
    tables, _ = pipeline.corpus()
    a = assign(tables["trials"])
    trials = tables["trials"].to_pylist()
    aact = {r["nct_id"]: r["trial_id"] for r in trials if r["source"] == "aact"}
    shared = [r for r in trials if r["source"] == "clinifact" and r["nct_id"] in aact]
    assert shared, "CliniFact and AACT share registry trials"
    for r in shared:
        assert a.split[r["trial_id"]] == a.split[aact[r["nct_id"]]]
        assert a.key[r["trial_id"]] == r["nct_id"]
    moved = [r for r in shared if a.split[r["trial_id"]] != "train"]
    assert moved, "some shared trials are validation/test by AACT's date, not train by default"
    undated = [r for r in trials if r["source"] == "llm_meta_analysis"]
    assert all(a.split[r["trial_id"]] == "train" for r in undated)
    assert a.undated > 0


def test_custom_cutoffs_move_trials():
    tables, _ = pipeline.corpus()
    default = assign(tables["trials"]).counts()
    early = assign(tables["trials"], Cutoffs(dt.date(2018, 1, 1), dt.date(2019, 1, 1))).counts()
    assert early["train"] < default["train"] and early["test"] > default["test"]
    assert sum(early.values()) == sum(default.values())


def test_exclusion_removes_from_train_only():
    tables, _ = pipeline.corpus()
    a = assign(tables["trials"])
    pairs = pipeline.strict_pairs()["strict_arm"]
    keys = [a.key[t] for t in pairs.column("trial_id").to_pylist()]
    splits = [a.split[t] for t in pairs.column("trial_id").to_pylist()]
    train_key = next(k for k, s in zip(keys, splits, strict=True) if s == "train")
    test_key = next(k for k, s in zip(keys, splits, strict=True) if s == "test")
    out, removed = split_table(pairs, a, {"user:ids.txt": {train_key, test_key}})
    n_train_rows = sum(1 for k, s in zip(keys, splits, strict=True) if k == train_key)
    assert removed["user:ids.txt"] == n_train_rows > 0
    assert train_key not in {a.key[t] for t in out["train"].column("trial_id").to_pylist()}
    # an excluded trial in a held-out split stays: exclusion protects training data only
    assert test_key in {a.key[t] for t in out["test"].column("trial_id").to_pylist()}
    assert sum(t.num_rows for t in out.values()) == pairs.num_rows - n_train_rows


def test_unknown_trial_is_an_error():
    tables, _ = pipeline.corpus()
    a = assign(tables["trials"])
    bad = pa.table({"trial_id": ["NCT00000000"]})
    with pytest.raises(KeyError, match="NCT00000000"):
        split_table(bad, a)


def test_user_exclusion_list_through_the_builder(tmp_path):
    from deepimagine_data.builders import pairs as builder

    tables, _ = pipeline.corpus()
    a = assign(tables["trials"])
    arm = pipeline.strict_pairs()["strict_arm"]
    train_ncts = sorted(
        {a.key[t] for t in arm.column("trial_id").to_pylist() if a.split[t] == "train" and a.key[t].startswith("NCT")}
    )[:3]
    f = tmp_path / "exclude.txt"
    f.write_text("# trials we may not train on\n" + "\n".join(train_ncts) + "\n")
    opts = BuildOptions(ctopen_source=None, ctopen_editions=(), exclude_files=(str(f),))
    split, info = builder.build_tables(opts)
    for cfg, by_split in split.items():
        nct = set(pc.unique(by_split["train"].column("nct_id")).to_pylist())
        assert not nct & set(train_ncts), cfg
    assert info["removed"]["strict_arm"]["user:exclude.txt"] > 0
    (row,) = info["decontamination"].summary()
    assert row[:2] == ("user:exclude.txt", 3) and row[2] == f"applied: user file {f}"


def test_no_ct_open_trial_in_any_training_split(ctopen_dir):
    """Both CT Open editions' trial ids are kept out of every train split (Winter 2025 read from the local copy;
    Summer 2025 is not on this machine, and the build records it as not loaded)."""
    from deepimagine_data.builders import bench, pairs

    winter = ctopen.nct_ids(["winter2025"], ctopen_dir)
    assert len(winter) == 314
    opts = BuildOptions(ctopen_source=str(ctopen_dir))
    for mod in (pairs, bench):
        split, info = mod.build_tables(opts)
        assert "ctopen_winter2025" in info["decontamination"].lists
        for cfg, by_split in split.items():
            train = set(pc.unique(by_split["train"].column("nct_id")).to_pylist())
            assert not train & winter, (mod.__name__, cfg)


def test_missing_edition_is_an_error_when_required(tmp_path, monkeypatch):
    monkeypatch.delenv("DEEPIMAGINE_CTOPEN_DIR", raising=False)
    opts = BuildOptions(ctopen_source=str(tmp_path), ctopen_editions=("summer2025",), ctopen_missing="error")
    with pytest.raises(FileNotFoundError, match="Summer_2025.pickle"):
        pipeline.decontamination(opts)
    # without --require-ctopen the shipped id list is applied, and the summary says the pickle was not loaded
    lenient = pipeline.decontamination(BuildOptions(ctopen_source=str(tmp_path), ctopen_editions=("summer2025",)))
    ((name, n, status),) = lenient.summary()
    assert (name, n) == ("ctopen_summer2025", 240)
    assert status.startswith("applied: shipped id list (ClinicalTrial-OpenChallenge/CT_Open@7a29c11 Summer_2025.pickle")
    assert "pickle not loaded: no local copy, Summer_2025.pickle not found" in status


def test_default_build_applies_both_shipped_lists_offline(monkeypatch):
    """No network, no --ctopen-source, no $DEEPIMAGINE_CTOPEN_DIR: both CT Open editions are still removed from
    training, from the id lists shipped in the package (314 and 240 ids)."""
    import requests

    monkeypatch.delenv("DEEPIMAGINE_CTOPEN_DIR", raising=False)

    def no_network(*a, **k):
        raise AssertionError("a default build must not touch the network")

    monkeypatch.setattr(requests.Session, "request", no_network)
    opts = pipeline.default_options()
    assert opts.ctopen_source is None
    deco = pipeline.decontamination(opts)
    summary = {name: (n, status) for name, n, status in deco.summary()}
    assert summary["ctopen_winter2025"][0] == 314 and summary["ctopen_summer2025"][0] == 240
    for name in ("ctopen_winter2025", "ctopen_summer2025"):
        assert summary[name][1].startswith("applied: shipped id list (ClinicalTrial-OpenChallenge/CT_Open@7a29c11")
    # the shipped Summer list is the shared folder's list, id for id (where that folder is here)
    shared = SHARED / "ct_open" / "Summer_2025_nct_ids.txt"
    if shared.exists():
        assert deco.lists["ctopen_summer2025"] == {x.strip() for x in shared.read_text().split() if x.strip()}
    # a real trial of each edition is out of train (Winter: NCT05799287, Telitacicept; Summer: the list's first id)
    assert "NCT05799287" in deco.lists["ctopen_winter2025"]
