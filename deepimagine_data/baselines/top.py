"""Baselines on HINT's Trial Outcome Prediction (TOP) benchmark: a strict reader, train-only features, four models.

TOP (Fu et al., "HINT: Hierarchical interaction network for clinical-trial-outcome predictions", Patterns 3(4),
2022; data at github.com/futianfan/clinical-trial-outcome-prediction, non-commercial use only) gives one CSV per
phase and split with the columns ``nctid,status,why_stop,label,phase,diseases,icdcodes,drugs,smiless,criteria``;
the list fields are Python literals, and ``icdcodes`` holds one list literal per disease. A real record (first row
of ``phase_I_valid.csv``, criteria shortened)::

    nctid     NCT00087451
    status    completed
    label     0
    phase     phase 1
    diseases  ['malignant glioma', 'glioblastoma', 'gliosarcoma']
    icdcodes  ["['R18.0', 'C17.3', 'G21.0', 'J91.0', 'C05.2', 'C10.0', 'C16.0']"]
    drugs     ['ap23573']
    smiless   ['CO[C@@H]1C[C@H](C[C@@H](C)[C@@H]2CC(=O)...']
    criteria  Inclusion Criteria (Patients must meet each of the following criteria ...): - Male or female ...

``read_top`` turns each row into a :class:`TopTrial` (``icdcodes`` flattened) and stops at the first bad row with
a :class:`TopFormatError` naming the file, the line the record starts on, the NCT id and the field.

Features (``TopFeatures``) are fitted on the training trials only: the phase one-hot, log1p counts of diseases,
drugs, ICD codes and SMILES (standardized; trees are invariant to this, logistic regression needs it), and TF-IDF
of the criteria text, the disease names, the drug names and ICD-10 code prefixes (chapter letter, category,
category + first decimal); ~6,300 columns on phase I, ~600 for ``gbm`` (its spec's caps, :data:`GBM_MAX_FEATURES`:
it densifies and histograms every column, and runs on one OpenMP thread). ``status`` and ``why_stop`` are never
features: they record how the trial ended (in phase I train 269 of 282 terminated trials are labelled 0), i.e. the
label. The ``knn`` model uses only sentence embeddings (the bundled MiniLM, cached by content) of a text view of
diseases, drugs and the first ``TEXT_MAX_CHARS`` characters of the criteria (:func:`top_text`).

Protocol of :func:`run_top` (hyperparameters chosen by PR-AUC on a selection split, never on the figures' split):

- ``test`` given: the figures are on the test file; hyperparameters are chosen on the official ``valid`` file
  (or, without one, on the fixed holdout below); the reported model is the one trained on the training file.
- no ``test``: the figures are on the official ``valid`` file, which selection never sees. Hyperparameters are
  chosen on a fixed stratified 20% of the training file (:func:`holdout_split`: per label, the trials whose
  sha256(nctid) sort first, so the split depends neither on row order nor on the seed), with features and models
  fitted on the other 80%; then features and the model are refitted on the whole training file with the chosen
  hyperparameters. Either way the evaluated model is trained on exactly the training file.

Metrics are those of the TOP papers: ``pr_auc`` (average precision of the probabilities), ``roc_auc`` and ``f1``
(positive class, predicted positive when p >= 0.5 as in HINT's ``evaluation``). HINT's code computes its PR-AUC
from the thresholded 0/1 predictions (``average_precision_score(label, binary)``) and averages 20 bootstrap
resamples of the test set; ``pr_auc_binary`` reports that variant (no bootstrap) for comparison.

Published phase I test figures (:data:`PUBLISHED`) are the logistic-regression and random-forest rows of the
baseline table of MEXA-CTP (Zhang, Liu & Murai, "MEXA-CTP: Mode Experts Cross-Attention for Clinical Trial
Outcome Prediction", SDM 2025, arXiv:2501.06823); :func:`format_comparison` prints ours next to them.

>>> normalize_phase("phase_I"), normalize_phase("2"), normalize_phase("III")
('I', 'II', 'III')
>>> icd_prefixes("C79.81 D24.1")
['C', 'C79', 'C79.8', 'D', 'D24', 'D24.1']
"""

from __future__ import annotations

import ast
import csv
import gzip
import hashlib
import io
import math
import os
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import RecordError
from . import models
from .models import MODELS, NAMES, make, select
from .registry import GBM_MAX_FEATURES  # noqa: F401 - defined with gbm's spec, still importable from here

__all__ = [
    "COLUMNS",
    "PUBLISHED",
    "PUBLISHED_SOURCE",
    "TEXT_MAX_CHARS",
    "EmbeddingFeatures",
    "TopFeatures",
    "TopFormatError",
    "TopRun",
    "TopTrial",
    "fit_top",
    "format_comparison",
    "holdout_split",
    "icd_prefixes",
    "metrics",
    "normalize_phase",
    "read_top",
    "run_top",
    "top_text",
]

COLUMNS = ("nctid", "status", "why_stop", "label", "phase", "diseases", "icdcodes", "drugs", "smiless", "criteria")
REQUIRED = ("nctid", "label", "phase", "diseases", "icdcodes", "drugs", "smiless", "criteria")
LIST_FIELDS = ("diseases", "icdcodes", "drugs", "smiless")
THRESHOLD = 0.5
HOLDOUT_FRACTION = 0.2
TEXT_MAX_CHARS = 1000  # MiniLM reads 256 word pieces (~1,000 characters of criteria text) anyway
SELECTION_METRIC = "pr_auc"

PUBLISHED_SOURCE = (
    "MEXA-CTP (Zhang, Liu & Murai, SDM 2025, arXiv:2501.06823), baseline table, TOP phase I test set "
    "(TOP: Fu et al. 2022, Patterns)"
)
# (phase, model) -> published test figures.
PUBLISHED: dict[tuple[str, str], dict[str, float]] = {
    ("I", "lr"): {"pr_auc": 0.513, "roc_auc": 0.485, "f1": 0.495},
    ("I", "rf"): {"pr_auc": 0.514, "roc_auc": 0.542, "f1": 0.499},
}

_PHASES = {
    "i": "I",
    "1": "I",
    "ii": "II",
    "2": "II",
    "iii": "III",
    "3": "III",
    "toy": "toy",
}


def normalize_phase(phase: str) -> str:
    """``"I"``, ``"II"``, ``"III"`` or ``"toy"`` from the usual spellings ("phase_I", "phase 2", "iii", "3")."""
    key = re.sub(r"^phase[\s_-]*", "", str(phase).strip().lower())
    if key not in _PHASES:
        raise ValueError(f"unknown TOP phase {phase!r}; use I, II, III (or 1, 2, 3) or toy")
    return _PHASES[key]


# -- reading ------------------------------------------------------------------------------------------------------


class TopFormatError(RecordError):
    """A TOP row that cannot be read; the message names the file, the record's first line, the NCT id and field.

    >>> str(TopFormatError("phase_I_train.csv", 12, "label", "'2' is not 0 or 1", nctid="NCT00087451"))
    "phase_I_train.csv, line 12 (NCT00087451): label: '2' is not 0 or 1"
    """

    def __init__(
        self,
        path: str | os.PathLike,
        line: int,
        field_name: str,
        message: str,
        nctid: str | None = None,
        reason: str | None = None,
    ) -> None:
        self.path = str(path)
        self.line = line
        self.nctid = nctid
        where = f"{self.path}, line {line}" + (f" ({nctid})" if nctid else "")
        super().__init__(where, field_name, message, reason)


@dataclass(frozen=True)
class TopTrial:
    """One TOP row. ``icdcodes`` is flattened over the diseases; ``source`` is ``file:line``."""

    nctid: str
    label: int
    phase: str
    diseases: tuple[str, ...]
    icdcodes: tuple[str, ...]
    drugs: tuple[str, ...]
    smiless: tuple[str, ...]
    criteria: str
    status: str = ""
    why_stop: str = ""
    source: str = ""


def _open_text(path: Path) -> io.TextIOBase:
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _parse_list(text: str, field_name: str, err) -> tuple[str, ...]:
    raw = text.strip()
    if not raw:
        raise err(field_name, "empty; expected a list literal like \"['a', 'b']\"")
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as e:
        raise err(field_name, f"not a Python list literal ({type(e).__name__}): {raw[:60]!r}") from None
    if not isinstance(value, list | tuple):
        raise err(field_name, f"expected a list, got {type(value).__name__}: {raw[:60]!r}")
    out: list[str] = []
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise err(field_name, f"item {i} is {type(item).__name__}, not a string")
        s = item.strip()
        if field_name == "icdcodes" and s.startswith("["):
            # HINT stores one list literal per disease: "[\"['C79.81', 'D24.1']\"]"
            out.extend(_parse_list(s, field_name, err))
        elif s:
            out.append(s)
    return tuple(out)


def _parse_label(text: str, err) -> int:
    s = text.strip()
    if s in ("0", "1", "0.0", "1.0"):
        return int(float(s))
    raise err("label", "missing" if not s else f"{s[:20]!r} is not 0 or 1")


def read_top(path: str | os.PathLike) -> list[TopTrial]:
    """Every row of a TOP CSV (plain or gzipped, detected by content), in file order.

    Raises :class:`TopFormatError` (a ``ValueError``) at the first row with a missing or non-0/1 label, an empty
    NCT id or phase, an unparseable list field, a wrong number of fields or a duplicated NCT id.

    >>> trials = read_top("../shared/data/hint_top/phase_I_valid.csv.gz")  # doctest: +SKIP
    >>> len(trials), trials[0].nctid, trials[0].label, trials[0].diseases  # doctest: +SKIP
    (117, 'NCT00087451', 0, ('malignant glioma', 'glioblastoma', 'gliosarcoma'))
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"TOP file not found: {path}")
    trials: list[TopTrial] = []
    seen: dict[str, int] = {}
    with _open_text(path) as f:
        reader = csv.reader(f)
        try:
            header = next(reader, None)
        except (csv.Error, UnicodeDecodeError, OSError, EOFError) as e:
            raise TopFormatError(path, 1, "<header>", f"unreadable: {e}") from None
        if not header:
            raise TopFormatError(path, 1, "<header>", "empty file: no header row")
        header = [h.strip() for h in header]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise TopFormatError(
                path, 1, missing[0], f"column missing from the header (has: {', '.join(header)})", reason="column"
            )
        col = {name: header.index(name) for name in header}
        while True:
            line = reader.line_num + 1
            try:
                row = next(reader, None)
            except (csv.Error, UnicodeDecodeError, OSError, EOFError) as e:
                raise TopFormatError(path, line, "<row>", f"unreadable: {e}") from None
            if row is None:
                break
            if not row:  # a blank line
                continue
            nctid = row[col["nctid"]].strip() if len(row) > col["nctid"] else ""

            def err(field_name: str, message: str, _line=line, _id=nctid) -> TopFormatError:
                return TopFormatError(path, _line, field_name, message, nctid=_id or None)

            if len(row) != len(header):
                raise err("<row>", f"{len(row)} fields, the header has {len(header)}")
            if not nctid:
                raise err("nctid", "missing")
            if nctid in seen:
                raise err("nctid", f"duplicate of the record on line {seen[nctid]}")
            seen[nctid] = line
            label = _parse_label(row[col["label"]], err)
            phase = row[col["phase"]].strip().lower()
            if not phase:
                raise err("phase", "missing")
            lists = {name: _parse_list(row[col[name]], name, err) for name in LIST_FIELDS}
            trials.append(
                TopTrial(
                    nctid=nctid,
                    label=label,
                    phase=phase,
                    criteria=row[col["criteria"]],
                    status=row[col["status"]].strip() if "status" in col else "",
                    why_stop=row[col["why_stop"]].strip() if "why_stop" in col else "",
                    source=f"{path.name}:{line}",
                    **lists,
                )
            )
    if not trials:
        raise TopFormatError(path, 2, "<row>", "no records after the header")
    return trials


# -- features -----------------------------------------------------------------------------------------------------

_WS = re.compile(r"\s+")


def _clean(text: str) -> str:
    return _WS.sub(" ", text).strip()


def icd_prefixes(doc: str) -> list[str]:
    """Tokens of a space-separated ICD-10 code list: chapter letter, category, category + first decimal."""
    out: list[str] = []
    for code in doc.split():
        code = code.upper()
        head, _, tail = code.partition(".")
        out.append(head[:1])
        out.append(head)
        if tail:
            out.append(f"{head}.{tail[:1]}")
    return out


def top_text(trial: TopTrial, max_chars: int = TEXT_MAX_CHARS) -> str:
    """The text view ``knn`` embeds: diseases, drugs and the criteria (whitespace collapsed, truncated)."""
    return (
        f"Diseases: {'; '.join(trial.diseases)}.\n"
        f"Drugs: {'; '.join(trial.drugs)}.\n"
        f"Criteria: {_clean(trial.criteria)[:max_chars]}"
    )


def _counts(trials: Sequence[TopTrial]) -> np.ndarray:
    raw = [[len(t.diseases), len(t.drugs), len(t.icdcodes), len(t.smiless)] for t in trials]
    return np.log1p(np.asarray(raw, dtype=np.float64))


class TopFeatures:
    """Phase one-hot, scaled counts and four TF-IDF blocks; every vocabulary, idf and scaler fitted on train only."""

    COUNT_NAMES = ("log1p_n_diseases", "log1p_n_drugs", "log1p_n_icdcodes", "log1p_n_smiles")

    def __init__(
        self,
        criteria_max_features: int = 3000,
        diseases_max_features: int = 1000,
        drugs_max_features: int = 1000,
        icd_max_features: int | None = None,
    ) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        self.phase = OneHotEncoder(handle_unknown="ignore")
        self.scaler = StandardScaler()
        self.vectorizers = {
            "criteria": TfidfVectorizer(
                stop_words="english",
                ngram_range=(1, 2),
                min_df=2,
                max_features=criteria_max_features,
                sublinear_tf=True,
                dtype=np.float64,
            ),
            "diseases": TfidfVectorizer(ngram_range=(1, 2), max_features=diseases_max_features, sublinear_tf=True),
            "drugs": TfidfVectorizer(max_features=drugs_max_features, sublinear_tf=True),
            "icd": TfidfVectorizer(analyzer=icd_prefixes, max_features=icd_max_features, sublinear_tf=True),
        }
        self.fitted_nctids: tuple[str, ...] = ()

    @staticmethod
    def documents(trials: Sequence[TopTrial]) -> dict[str, list[str]]:
        """The text each TF-IDF block reads, per trial."""
        return {
            "criteria": [_clean(t.criteria) for t in trials],
            "diseases": [" ; ".join(t.diseases) for t in trials],
            "drugs": [" ; ".join(t.drugs) for t in trials],
            "icd": [" ".join(t.icdcodes) for t in trials],
        }

    def fit(self, trials: Sequence[TopTrial]) -> TopFeatures:
        docs = self.documents(trials)
        self.phase.fit(np.asarray([[t.phase] for t in trials], dtype=object))
        self.scaler.fit(_counts(trials))
        for name, vec in self.vectorizers.items():
            vec.fit(docs[name])
        self.fitted_nctids = tuple(t.nctid for t in trials)
        return self

    def transform(self, trials: Sequence[TopTrial]):
        """A CSR matrix (len(trials), n_features)."""
        import scipy.sparse as sp

        if not self.fitted_nctids:
            raise RuntimeError("TopFeatures.transform before fit")
        docs = self.documents(trials)
        blocks = [
            self.phase.transform(np.asarray([[t.phase] for t in trials], dtype=object)),
            sp.csr_matrix(self.scaler.transform(_counts(trials))),
        ]
        blocks += [vec.transform(docs[name]) for name, vec in self.vectorizers.items()]
        return sp.hstack(blocks, format="csr", dtype=np.float64)

    def describe(self) -> dict[str, Any]:
        sizes = {"phase": len(self.phase.categories_[0]), "counts": len(self.COUNT_NAMES)}
        sizes.update({name: len(vec.vocabulary_) for name, vec in self.vectorizers.items()})
        return {"kind": "tfidf", "n_features": sum(sizes.values()), "blocks": sizes}


class EmbeddingFeatures:
    """Sentence embeddings of :func:`top_text` (pretrained, nothing fitted on data): the only input of ``knn``."""

    def __init__(self, embedder=None, max_chars: int = TEXT_MAX_CHARS) -> None:
        if embedder is None:
            from ..retrieval import Embedder

            embedder = Embedder(progress=False)
        self.embedder = embedder
        self.max_chars = max_chars
        self.fitted_nctids: tuple[str, ...] = ()

    def fit(self, trials: Sequence[TopTrial]) -> EmbeddingFeatures:
        self.fitted_nctids = tuple(t.nctid for t in trials)
        return self

    def transform(self, trials: Sequence[TopTrial]) -> np.ndarray:
        return self.embedder.embed([top_text(t, self.max_chars) for t in trials])

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "embedding",
            "n_features": int(self.embedder.dim),
            "model": self.embedder.model_name,
            "revision": self.embedder.model_revision,
            "text_max_chars": self.max_chars,
        }


def _features(model: str, embedder=None) -> TopFeatures | EmbeddingFeatures:
    # the spec decides: an embedding model reads sentence embeddings only, any other TF-IDF and one-hots, capped where
    # the spec caps them (gbm: registry.GBM_MAX_FEATURES)
    s = models.spec(model)
    if s.view == "embedding":
        return EmbeddingFeatures(embedder)
    return TopFeatures(**(s.top_max_features or {}))


# -- protocol -----------------------------------------------------------------------------------------------------


def holdout_split(trials: Sequence[TopTrial], fraction: float = HOLDOUT_FRACTION) -> tuple[list[int], list[int]]:
    """(fit indices, holdout indices): per label, the ``round(fraction * n)`` trials whose sha256(nctid) sorts
    first are held out. Fixed: independent of row order and of any seed."""
    hold: list[int] = []
    for label in (0, 1):
        idx = [i for i, t in enumerate(trials) if t.label == label]
        if len(idx) < 2:
            raise ValueError(
                f"cannot hold out a stratified split: only {len(idx)} training trial(s) with label {label}"
            )
        idx.sort(key=lambda i: hashlib.sha256(trials[i].nctid.encode()).hexdigest())
        hold += idx[: max(1, round(fraction * len(idx)))]
    held = set(hold)
    return [i for i in range(len(trials)) if i not in held], sorted(hold)


def metrics(labels: Sequence[int], proba: Sequence[float], threshold: float = THRESHOLD) -> dict[str, float]:
    """PR-AUC (average precision), ROC-AUC, F1 of the positive class at ``p >= threshold``, and HINT's PR-AUC of
    the thresholded predictions (``pr_auc_binary``)."""
    from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

    y = np.asarray(labels, dtype=int)
    p = np.asarray(proba, dtype=np.float64)
    binary = (p >= threshold).astype(int)
    if len(set(y.tolist())) < 2:
        raise ValueError("the evaluation file has a single label: PR-AUC and ROC-AUC are undefined")
    return {
        "pr_auc": float(average_precision_score(y, p)),
        "roc_auc": float(roc_auc_score(y, p)),
        "f1": float(f1_score(y, binary, zero_division=0)),
        "pr_auc_binary": float(average_precision_score(y, binary)),
    }


def _pr_auc_score(y: np.ndarray, proba: np.ndarray) -> float:
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(y, proba[:, 1]))


def _check_disjoint(a: Sequence[TopTrial], b: Sequence[TopTrial], what: str) -> None:
    common = sorted({t.nctid for t in a} & {t.nctid for t in b})
    if common:
        raise ValueError(
            f"{len(common)} trial(s) are in both the training file and the {what} file "
            f"(e.g. {', '.join(common[:5])}): that would leak labels; remove them from one side"
        )


def _labels(trials: Sequence[TopTrial]) -> np.ndarray:
    return np.asarray([t.label for t in trials], dtype=int)


def _train(model, train_trials, select_trials, eval_trials, seed, embedder):
    """Select hyperparameters, fit the reported model on the training file, predict the evaluated trials."""
    y_train = _labels(train_trials)
    selection_features = None
    if select_trials is not None:
        _check_disjoint(train_trials, select_trials, "valid")
        selected_on = "valid"
        features = _features(model, embedder).fit(train_trials)
        x_train = features.transform(train_trials)
        y_sel = _labels(select_trials)
        sel = select(model, x_train, y_train, features.transform(select_trials), y_sel, _pr_auc_score, seed)
        fitted = sel.model  # trained on the training file only
        n_select = len(select_trials)
    else:
        selected_on = "train_holdout"
        fit_idx, hold_idx = holdout_split(train_trials)
        fit_part = [train_trials[i] for i in fit_idx]
        hold_part = [train_trials[i] for i in hold_idx]
        selection_features = _features(model, embedder).fit(fit_part)
        sel = select(
            model,
            selection_features.transform(fit_part),
            _labels(fit_part),
            selection_features.transform(hold_part),
            _labels(hold_part),
            _pr_auc_score,
            seed,
        )
        # Refit features and model on the whole training file with the chosen hyperparameters.
        features = _features(model, getattr(selection_features, "embedder", None)).fit(train_trials)
        x_train = features.transform(train_trials)
        fitted = models.fit(model, make(model, sel.params, seed), x_train, y_train)
        n_select = len(hold_part)

    classes = list(getattr(fitted, "classes_", []))
    proba_all = models.predict_proba(model, fitted, features.transform(eval_trials))
    proba = np.asarray(proba_all[:, classes.index(1)], dtype=np.float64)
    return features, selection_features, sel, fitted, n_select, selected_on, proba


@dataclass
class TopRun:
    """Everything one run fitted (for inspection and the leakage tests); ``result`` is what :func:`run_top` returns."""

    result: dict[str, Any]
    features: TopFeatures | EmbeddingFeatures  # fitted on the training file
    model: Any  # fitted on the training file
    train: list[TopTrial]
    evaluated: list[TopTrial]
    proba: np.ndarray
    selection_features: TopFeatures | EmbeddingFeatures | None = None  # holdout mode: fitted on the 80% part
    extra: dict[str, Any] = field(default_factory=dict)


def fit_top(
    model: str,
    phase: str,
    train: str | os.PathLike,
    valid: str | os.PathLike | None = None,
    test: str | os.PathLike | None = None,
    seed: int = 0,
    embedder=None,
) -> TopRun:
    """:func:`run_top` keeping the fitted objects. ``embedder`` (a ``retrieval.Embedder``) is for ``knn`` only."""
    start = time.perf_counter()
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; known: {', '.join(MODELS)}")
    phase = normalize_phase(phase)
    if test is None and valid is None:
        raise ValueError("run_top needs a file to evaluate on: test (with valid for selection) or valid")
    train_trials = read_top(train)
    y_train = _labels(train_trials)
    if len(set(y_train.tolist())) < 2:
        raise ValueError(f"{train}: every training trial has label {int(y_train[0])}")
    if test is not None:
        eval_trials, evaluated_on = read_top(test), "test"
        select_trials = read_top(valid) if valid is not None else None
    else:
        eval_trials, evaluated_on = read_top(valid), "valid"
        select_trials = None
    _check_disjoint(train_trials, eval_trials, evaluated_on)

    # gbm's one-OpenMP-thread limit is applied by models.fit/predict_proba, which _train goes through
    trained = _train(model, train_trials, select_trials, eval_trials, seed, embedder)
    features, selection_features, sel, fitted, n_select, selected_on, proba = trained
    y_eval = _labels(eval_trials)
    figures = metrics(y_eval, proba)
    result: dict[str, Any] = {
        "benchmark": "top",
        "phase": phase,
        "model": model,
        "model_name": NAMES[model],
        **figures,
        "threshold": THRESHOLD,
        "evaluated_on": evaluated_on,
        "selected_on": selected_on,
        "selection_metric": SELECTION_METRIC,
        "refit_on_train": selected_on == "train_holdout",
        "hyperparameters": dict(sel.params),
        "selection": [{"hyperparameters": dict(p), SELECTION_METRIC: float(s)} for p, s in sel.tried],
        "n_train": len(train_trials),
        "n_select": n_select,
        "n_eval": len(eval_trials),
        "positive_rate": float(y_eval.mean()),
        "train_positive_rate": float(y_train.mean()),
        "seed": seed,
        "features": features.describe(),
        "files": {
            "train": str(train),
            "valid": None if valid is None else str(valid),
            "test": None if test is None else str(test),
        },
        "predictions": [
            {"nctid": t.nctid, "label": int(t.label), "proba": float(p)}
            for t, p in zip(eval_trials, proba, strict=True)
        ],
        "seconds": round(time.perf_counter() - start, 2),
    }
    return TopRun(result, features, fitted, train_trials, eval_trials, proba, selection_features)


def run_top(
    model: str,
    phase: str,
    train: str | os.PathLike,
    valid: str | os.PathLike | None = None,
    test: str | os.PathLike | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Train ``model`` (lr, rf, gbm, knn) on a TOP training file and score it; a JSON-able dict.

    With ``test``: figures on the test file, hyperparameters chosen on ``valid``. Without: figures on ``valid``,
    hyperparameters chosen on a fixed stratified 20% of the training file, then refitted on all of it (see the
    module docstring). Keys: ``pr_auc``, ``roc_auc``, ``f1`` (and ``pr_auc_binary``, HINT's variant),
    ``evaluated_on``, ``selected_on``, ``n_train``, ``n_select``, ``n_eval``, ``positive_rate``, ``model``,
    ``hyperparameters``, ``phase``, ``selection`` (every grid point and its selection PR-AUC), ``features``,
    ``files``, ``predictions`` (nctid, label, proba per evaluated trial), ``seconds``.

    >>> r = run_top("lr", "I", "phase_I_train.csv.gz", valid="phase_I_valid.csv.gz")  # doctest: +SKIP
    >>> r["evaluated_on"], r["n_train"], r["n_eval"]  # doctest: +SKIP
    ('valid', 1044, 117)
    """
    return fit_top(model, phase, train, valid=valid, test=test, seed=seed).result


# -- reporting ----------------------------------------------------------------------------------------------------


def _fmt(x: float | None) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def format_comparison(results: Iterable[dict[str, Any]]) -> str:
    """A text table of our figures (results of :func:`run_top`) next to the published ones (:data:`PUBLISHED`).

    >>> print(format_comparison([{"phase": "I", "model": "lr", "pr_auc": 0.6, "roc_auc": 0.55, "f1": 0.7,
    ...     "evaluated_on": "valid", "n_eval": 117, "positive_rate": 0.573, "seconds": 3.0}]))
    ... # doctest: +NORMALIZE_WHITESPACE
                                                | ours                 | published (test)     |
    phase model               split     n  pos. | PR-AUC ROC-AUC    F1 | PR-AUC ROC-AUC    F1 |    time
    I     logistic regression valid   117 0.573 |  0.600   0.550 0.700 |  0.513   0.485 0.495 |   3.0 s
    published: MEXA-CTP (Zhang, Liu & Murai, SDM 2025, arXiv:2501.06823), baseline table,
      TOP phase I test set (TOP: Fu et al. 2022, Patterns)
    note: our rows on 'valid' are not comparable one-to-one with published test-set figures.
    """
    cells = f"{'PR-AUC':>6} {'ROC-AUC':>7} {'F1':>5}"
    lines = [
        f"{'':<43} | {'ours':<20} | {'published (test)':<20} |",
        f"{'phase':<5} {'model':<19} {'split':<5} {'n':>5} {'pos.':>5} | {cells} | {cells} | {'time':>7}",
    ]
    any_valid = False
    for r in results:
        pub = PUBLISHED.get((r["phase"], r["model"]), {})
        any_valid |= r.get("evaluated_on") != "test"
        seconds = r.get("seconds")
        ours = f"{_fmt(r.get('pr_auc')):>6} {_fmt(r.get('roc_auc')):>7} {_fmt(r.get('f1')):>5}"
        theirs = f"{_fmt(pub.get('pr_auc')):>6} {_fmt(pub.get('roc_auc')):>7} {_fmt(pub.get('f1')):>5}"
        lines.append(
            f"{r['phase']:<5} {NAMES.get(r['model'], r['model']):<19} {r.get('evaluated_on', ''):<5} "
            f"{r.get('n_eval', 0):>5} {r.get('positive_rate', float('nan')):>5.3f} | {ours} | {theirs} | "
            f"{'' if seconds is None else f'{seconds:.1f} s':>7}"
        )
    head, _, tail = PUBLISHED_SOURCE.partition(", TOP ")
    lines.append(f"published: {head},")
    lines.append(f"  TOP {tail}")
    if any_valid:
        lines.append("note: our rows on 'valid' are not comparable one-to-one with published test-set figures.")
    return "\n".join(lines)
