"""TOP baselines (deepimagine_data.baselines.top) on HINT's real TOP files under ../shared/data/hint_top.

Everything here reads the real benchmark files (skipped when they are absent). Fitted runs are cached per module:
lr and rf on phase I (each twice, for determinism), lr on the toy files (the test-file protocol) and knn on the
first 150 rows of phase I train (its leakage test; the embeddings are cached under ~/.cache/deepimagine after the
first run).
"""

from __future__ import annotations

import csv
import gzip
import io
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score  # noqa: E402

from deepimagine_data.baselines import top  # noqa: E402
from deepimagine_data.baselines.top import TopFormatError, fit_top, read_top, run_top  # noqa: E402


@pytest.fixture(scope="module")
def top_dir(hint_top_dir: Path) -> Path:
    if not (hint_top_dir / "phase_I_train.csv.gz").is_file():
        pytest.skip("HINT's TOP phase I files (TOP/HINT, not redistributable) are not in ../shared/data/hint_top")
    return hint_top_dir


class Runs:
    """fit_top results, computed once per module."""

    def __init__(self, top_dir: Path, tmp: Path) -> None:
        self.dir = top_dir
        self.tmp = tmp
        self._cache: dict[tuple, top.TopRun] = {}

    def phase1(self, model: str, repeat: int = 0) -> top.TopRun:
        key = ("I", model, repeat)
        if key not in self._cache:
            self._cache[key] = fit_top(
                model, "I", self.dir / "phase_I_train.csv.gz", valid=self.dir / "phase_I_valid.csv.gz"
            )
        return self._cache[key]

    def toy(self) -> top.TopRun:
        key = ("toy", "lr", 0)
        if key not in self._cache:
            d = self.dir
            self._cache[key] = fit_top(
                "lr", "toy", d / "toy_train.csv.gz", valid=d / "toy_valid.csv.gz", test=d / "toy_test.csv.gz"
            )
        return self._cache[key]

    def knn_small(self) -> top.TopRun:
        key = ("I", "knn-small", 0)
        if key not in self._cache:
            small = self.tmp / "phase_I_train_first150.csv"
            _write_rows(small, *_real_rows(self.dir / "phase_I_train.csv.gz", 150))
            self._cache[key] = fit_top("knn", "I", small, valid=self.dir / "phase_I_valid.csv.gz")
        return self._cache[key]


@pytest.fixture(scope="module")
def runs(top_dir: Path, tmp_path_factory) -> Runs:
    return Runs(top_dir, tmp_path_factory.mktemp("top"))


def _real_rows(path: Path, n: int) -> tuple[list[str], list[list[str]]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = [row for _, row in zip(range(n), reader, strict=False)]
    return header, rows


def _render(row: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(row)
    return buf.getvalue()


def _write_rows(path: Path, header: list[str], rows: list[list[str]]) -> list[int]:
    """Write a CSV; return the line each record starts on (criteria span many lines)."""
    text = _render(header)
    starts = []
    for row in rows:
        starts.append(text.count("\n") + 1)
        text += _render(row)
    if path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8", newline="") as f:
            f.write(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return starts


# -- reader -------------------------------------------------------------------------------------------------------


def test_reader_counts_and_a_real_row(top_dir: Path, tmp_path: Path) -> None:
    train = read_top(top_dir / "phase_I_train.csv.gz")
    valid = read_top(top_dir / "phase_I_valid.csv.gz")
    assert (len(train), sum(t.label for t in train)) == (1044, 592)
    assert (len(valid), sum(t.label for t in valid)) == (117, 67)
    assert {t.phase for t in train} == {"phase 1", "phase 1/phase 2", "early phase 1"}

    t = next(t for t in valid if t.nctid == "NCT00087451")
    assert t.label == 0 and t.phase == "phase 1" and t.status == "completed"
    assert t.diseases == ("malignant glioma", "glioblastoma", "gliosarcoma")
    assert t.drugs == ("ap23573",)
    assert t.icdcodes == ("R18.0", "C17.3", "G21.0", "J91.0", "C05.2", "C10.0", "C16.0")  # nested literal, flattened
    assert len(t.smiless) == 1 and t.smiless[0].startswith("CO[C@@H]1C[C@H]")
    assert t.criteria.lstrip().startswith("Inclusion Criteria") and t.source == "phase_I_valid.csv.gz:2"

    first = train[0]
    assert (first.nctid, first.label, first.diseases) == ("NCT01187615", 0, ("small cell lung carcinoma",))
    assert first.icdcodes == ("D02.20", "D02.21", "D02.22")

    # Plain CSV reads the same as the gzipped file.
    plain = tmp_path / "phase_I_valid.csv"
    with gzip.open(top_dir / "phase_I_valid.csv.gz", "rb") as src, open(plain, "wb") as dst:
        shutil.copyfileobj(src, dst)
    assert [(a.nctid, a.icdcodes, a.criteria) for a in read_top(plain)] == [
        (b.nctid, b.icdcodes, b.criteria) for b in valid
    ]


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("label", "", "label: missing"),
        ("label", "2", "label: '2' is not 0 or 1"),
        ("diseases", "['glioma', ", "diseases: not a Python list literal"),
        ("drugs", "aspirin", "drugs: not a Python list literal"),
        ("icdcodes", "[\"['C71.9', \"]", "icdcodes: not a Python list literal"),
        ("smiless", "{'a': 1}", "smiless: expected a list, got dict"),
    ],
)
@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
def test_bad_rows_name_file_line_field(
    top_dir: Path, tmp_path: Path, column: str, value: str, message: str, suffix: str
) -> None:
    header, rows = _real_rows(top_dir / "phase_I_valid.csv.gz", 4)
    rows[2][header.index(column)] = value
    path = tmp_path / f"bad{suffix}"
    starts = _write_rows(path, header, rows)
    assert starts[2] > 4  # the real criteria span lines: the line is the record's first line, not its index
    with pytest.raises(TopFormatError) as e:
        read_top(path)
    nctid = rows[2][header.index("nctid")]
    assert (e.value.path, e.value.line, e.value.field, e.value.nctid) == (str(path), starts[2], column, nctid)
    assert str(e.value).startswith(f"{path}, line {starts[2]} ({nctid}): {message}")


def test_bad_header_duplicates_and_field_counts(top_dir: Path, tmp_path: Path) -> None:
    header, rows = _real_rows(top_dir / "phase_I_valid.csv.gz", 3)
    no_label = tmp_path / "no_label.csv"
    keep = [i for i, h in enumerate(header) if h != "label"]
    _write_rows(no_label, [header[i] for i in keep], [[r[i] for i in keep] for r in rows])
    with pytest.raises(TopFormatError, match=r"no_label\.csv, line 1: label: column missing from the header"):
        read_top(no_label)

    dup = tmp_path / "dup.csv"
    starts = _write_rows(dup, header, [rows[0], rows[1], rows[0]])
    with pytest.raises(TopFormatError, match=rf"line {starts[2]} \({rows[0][0]}\): nctid: duplicate .* line 2"):
        read_top(dup)

    short = tmp_path / "short.csv"
    starts = _write_rows(short, header, [rows[0], rows[1][:-1]])
    with pytest.raises(TopFormatError, match=rf"short\.csv, line {starts[1]} .*: <row>: 9 fields, the header has 10"):
        read_top(short)


# -- runs ---------------------------------------------------------------------------------------------------------


def _without_time(result: dict) -> dict:
    return {k: v for k, v in result.items() if k != "seconds"}


@pytest.mark.parametrize("model", ["lr", "rf"])
def test_run_top_phase1_figures_and_determinism(runs: Runs, model: str) -> None:
    first = runs.phase1(model).result
    assert set(first) >= {
        "pr_auc",
        "roc_auc",
        "f1",
        "evaluated_on",
        "n_train",
        "n_eval",
        "positive_rate",
        "model",
        "hyperparameters",
        "phase",
        "selection",
    }
    for k in ("pr_auc", "roc_auc", "f1", "pr_auc_binary", "positive_rate"):
        assert 0.0 <= first[k] <= 1.0, k
    assert (first["phase"], first["model"], first["evaluated_on"], first["selected_on"]) == (
        "I",
        model,
        "valid",
        "train_holdout",
    )
    assert (first["n_train"], first["n_select"], first["n_eval"]) == (1044, 208, 117)
    assert first["positive_rate"] == pytest.approx(67 / 117)
    assert len(first["selection"]) == 4 and first["hyperparameters"] in [
        s["hyperparameters"] for s in first["selection"]
    ]
    best = max(first["selection"], key=lambda s: s["pr_auc"])
    assert first["hyperparameters"] == best["hyperparameters"]
    # A second, independent run gives the same figures, choice and predictions.
    assert _without_time(runs.phase1(model, repeat=1).result) == _without_time(first)


def test_test_file_protocol_on_toy(runs: Runs) -> None:
    run = runs.toy()
    r = run.result
    assert (r["phase"], r["evaluated_on"], r["selected_on"], r["refit_on_train"]) == ("toy", "test", "valid", False)
    assert (r["n_train"], r["n_select"], r["n_eval"]) == (1028, 146, 295)
    assert run.selection_features is None and run.features.fitted_nctids == tuple(t.nctid for t in run.train)
    assert [p["nctid"] for p in r["predictions"]] == [t.nctid for t in read_top(runs.dir / "toy_test.csv.gz")]


def test_metrics_equal_sklearn_on_returned_predictions(runs: Runs, top_dir: Path) -> None:
    for model in ("lr", "rf"):
        r = runs.phase1(model).result
        valid = read_top(top_dir / "phase_I_valid.csv.gz")
        assert [(p["nctid"], p["label"]) for p in r["predictions"]] == [(t.nctid, t.label) for t in valid]
        y = np.array([p["label"] for p in r["predictions"]])
        p = np.array([p["proba"] for p in r["predictions"]])
        assert r["pr_auc"] == average_precision_score(y, p)
        assert r["roc_auc"] == roc_auc_score(y, p)
        assert r["f1"] == f1_score(y, (p >= 0.5).astype(int))
        assert r["pr_auc_binary"] == average_precision_score(y, (p >= 0.5).astype(int))


def test_features_fitted_on_train_only(runs: Runs, top_dir: Path) -> None:
    run = runs.phase1("lr")
    feats = run.features
    train = read_top(top_dir / "phase_I_train.csv.gz")
    valid = read_top(top_dir / "phase_I_valid.csv.gz")
    train_ids, valid_ids = [t.nctid for t in train], {t.nctid for t in valid}
    assert list(feats.fitted_nctids) == train_ids and not valid_ids & set(feats.fitted_nctids)
    assert [t.nctid for t in run.train] == train_ids and run.model.n_features_in_ == feats.describe()["n_features"]

    # Each vectorizer equals a fresh copy fitted on the training documents alone (vocabulary and idf).
    docs_train, docs_valid = top.TopFeatures.documents(train), top.TopFeatures.documents(valid)
    for name, vec in feats.vectorizers.items():
        fresh = clone(vec).fit(docs_train[name])
        assert vec.vocabulary_ == fresh.vocabulary_, name
        np.testing.assert_array_equal(vec.idf_, fresh.idf_)
        assert not {i.lower() for i in valid_ids} & set(vec.vocabulary_)
    # Tokens that occur only in the evaluation file are not in the fitted vocabularies.
    for name in ("drugs", "icd"):
        analyze = feats.vectorizers[name].build_analyzer()
        seen_in_train = {tok for d in docs_train[name] for tok in analyze(d)}
        only_valid = {tok for d in docs_valid[name] for tok in analyze(d)} - seen_in_train
        assert only_valid, name
        assert not only_valid & set(feats.vectorizers[name].vocabulary_), name

    # Scaler and phase encoder: train statistics only.
    counts = np.log1p([[len(t.diseases), len(t.drugs), len(t.icdcodes), len(t.smiless)] for t in train])
    np.testing.assert_allclose(feats.scaler.mean_, counts.mean(axis=0))
    np.testing.assert_allclose(feats.scaler.var_, counts.var(axis=0))
    assert set(feats.phase.categories_[0]) == {t.phase for t in train}

    # Selection (holdout mode) saw 80% of the training file only, never the evaluation file.
    sel_ids = set(run.selection_features.fitted_nctids)
    fit_idx, hold_idx = top.holdout_split(train)
    assert sel_ids == {train[i].nctid for i in fit_idx} and not sel_ids & valid_ids
    assert len(sel_ids) == 1044 - 208


def test_knn_index_holds_the_training_items_only(runs: Runs, top_dir: Path) -> None:
    run = runs.knn_small()
    r = run.result
    assert r["model"] == "knn" and r["features"]["kind"] == "embedding" and r["features"]["n_features"] == 384
    assert r["n_train"] == 150 and run.model.n_samples_fit_ == 150
    assert run.features.fitted_nctids == tuple(t.nctid for t in run.train)
    valid_ids = {t.nctid for t in read_top(top_dir / "phase_I_valid.csv.gz")}
    assert not valid_ids & set(run.features.fitted_nctids)
    for k in ("pr_auc", "roc_auc", "f1"):
        assert 0.0 <= r[k] <= 1.0


def test_holdout_split_is_fixed_and_stratified(top_dir: Path) -> None:
    train = read_top(top_dir / "phase_I_train.csv.gz")
    fit_idx, hold_idx = top.holdout_split(train)
    held = [train[i] for i in hold_idx]
    assert (len(held), sum(t.label for t in held)) == (
        208,
        118,
    )  # round(0.2 * 592) positives, round(0.2 * 452) negatives
    assert sorted(fit_idx + hold_idx) == list(range(len(train)))
    shuffled = list(reversed(train))
    assert {shuffled[i].nctid for i in top.holdout_split(shuffled)[1]} == {t.nctid for t in held}


def test_overlapping_train_and_eval_files_are_refused(top_dir: Path) -> None:
    # 32 phase 1/phase 2 trials are in both phase I train and phase II valid.
    with pytest.raises(ValueError, match=r"32 trial\(s\) are in both the training file and the valid file"):
        run_top("lr", "II", top_dir / "phase_I_train.csv.gz", valid=top_dir / "phase_II_valid.csv.gz")
    with pytest.raises(ValueError, match="needs a file to evaluate on"):
        run_top("lr", "I", top_dir / "phase_I_train.csv.gz")
    with pytest.raises(ValueError, match="unknown model"):
        run_top("svm", "I", top_dir / "phase_I_train.csv.gz", valid=top_dir / "phase_I_valid.csv.gz")


def test_format_comparison_lists_ours_and_published(runs: Runs) -> None:
    results = [runs.phase1("lr").result, runs.phase1("rf").result]
    text = top.format_comparison(results)
    lines = text.splitlines()
    lr_line = next(line for line in lines if "logistic regression" in line)
    rf_line = next(line for line in lines if "random forest" in line)
    assert f"{results[0]['pr_auc']:.3f}" in lr_line and "0.513   0.485 0.495" in lr_line
    assert f"{results[1]['roc_auc']:.3f}" in rf_line and "0.514   0.542 0.499" in rf_line
    assert "MEXA-CTP" in text and "not comparable one-to-one" in text
