"""Features for the correlational baselines: one :class:`FeatureSpace`, fitted on a training split only.

Rows are plain dicts in one shape for both sources (:func:`bench_rows` for ``deepimagine/bench`` joined with the
normalized trial model, :func:`ctopen_rows` for a CT Open edition), so that a space fitted on bench-train rows
transforms CT Open records too. Two feature sets:

- ``text`` — only what a bench question and a CT Open record both state: the question's category and type, the trial
  title, its arms (titles, descriptions, arm types, intervention names through
  :func:`~deepimagine_data.normalize.names.canonical_name`), the endpoint (title, description, time frame, primary
  or secondary), the two compared arms of an explicit question (arm types, interventions, a dose parsed from their
  text). Blocks: one-hot categories, scaled counts, top-k intervention names, TF-IDF of trial / endpoint / each
  compared arm. CT Open baselines use this set.
- ``full`` — ``text`` plus the normalized trial model and the comparison's descriptors, which CT Open records do not
  have: phase, log enrollment, allocation, masking, intervention model, primary purpose, sponsor class, source,
  conditions and MeSH interventions (top-k), the compared arms' ``normalized_name`` (top-k), outcome parameter type,
  estimate type, outcome polarity, non-inferiority, dose match; and conditions in the trial text. Bench baselines
  use this set.

Never a feature: anything computed from the posted values (p-value, CI, estimate value, per-arm values, n,
significance, direction, benefit, decision) nor the answer; from a CT Open record only ``brief_title``, ``arms``,
``listed_arms``, ``meta_label``, the endpoint and the question options are read — never ``answer_list_of_lists``,
``list_of_tuples``, ``no_arm_label``, ``reported_results``, ``real_arm`` or ``question_idx2result_idx_list``, which
hold or point at the answer.

How the fields become columns depends on the model (``view``, see :class:`FeatureSpace`): ``sparse`` for lr
(TF-IDF words, one-hots, top-100 names: 4,386 columns on ``full``, 3,864 on ``text``), ``compact`` for rf and gbm
(rare categories pooled, top-15 names, 10 SVD components per text block: 259 / 126 columns), ``embedding`` for knn (a
sentence embedding of :func:`knn_text` beside the one-hot categories; the embedding model is pretrained, so only the
one-hot encoder is fitted).

Example (real bench rows)::

    >>> rows = bench_rows("hub")  # doctest: +SKIP
    >>> space = FeatureSpace("full").fit(rows["train"])  # doctest: +SKIP
    >>> space.transform(rows["test"]).shape  # doctest: +SKIP
    (912, 4386)
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .registry import REGISTRY

FEATURE_SETS = ("text", "full")
ARM_TYPES = ("EXPERIMENTAL", "ACTIVE_COMPARATOR", "PLACEBO_COMPARATOR", "NO_INTERVENTION", "SHAM_COMPARATOR", "OTHER")
# CT Open fields that hold or point at the answer: never read here.
CTOPEN_ANSWER_FIELDS = (
    "answer_list_of_lists",
    "list_of_tuples",
    "no_arm_label",
    "reported_results",
    "real_arm",
    "question_idx2result_idx_list",
    "distinguishable_arm",
)
# CT Open's question wording, which is the bench's own for these two types (pairs/render.py).
_SUPERIORITY = re.compile(
    r"^The study arm (?P<b>.+) has achieved statistically significant improvements over the study arm (?P<a>.+) "
    r"with respect to this specific endpoint\.$",
    re.S,
)
_COMPARATIVE = re.compile(
    r"^Study Arm (?P<a>.+) is statistically significantly worse than Study Arm (?P<b>.+)\.$", re.S
)
_OUTCOME_TYPES = {
    "primaryOutcomes": "PRIMARY",
    "secondaryOutcomes": "SECONDARY",
    "otherOutcomes": "OTHER_PRE_SPECIFIED",
}

# Sizes of the fitted blocks: small on purpose (about 5,500 training questions; gbm densifies the matrix).
TFIDF_MAX = {"trial": 1500, "endpoint": 1000, "arm_b": 500, "arm_a": 500}
TFIDF_MIN_DF = 3
TOP_K = 100
TOP_K_MIN_COUNT = 3
ONEHOT_MIN_FREQUENCY = 3
KNN_CATEGORY_WEIGHT = 0.5
# the "compact" view for the tree models (see FeatureSpace)
COMPACT_MIN_FREQUENCY = 20
COMPACT_TOP_K = 15
COMPACT_SVD = 10
COMPACT_LEVELS = 255
VIEWS = ("sparse", "compact", "embedding")
# each model's default view, from its spec (registry.py)
VIEW = {name: s.view for name, s in REGISTRY.items()}


# --- rows ------------------------------------------------------------------------------------------------------


def _arm(title: Any, description: Any, arm_type: Any, interventions: Sequence[str] | None) -> dict:
    return {
        "title": title or "",
        "description": description or "",
        "arm_type": arm_type or None,
        "interventions": [x for x in (interventions or []) if x],
    }


def _hub_root(hub: str | os.PathLike) -> Path:
    p = Path(hub)
    if (p / "deepimagine").is_dir():
        p = p / "deepimagine"
    for name in ("bench", "trials"):
        if not (p / name).is_dir():
            raise FileNotFoundError(
                f"{p / name} not found: the bench baselines read deepimagine/bench and deepimagine/trials from a "
                "built hub folder (run `deepimagine build --out DIR` and pass --hub DIR)"
            )
    return p


def bench_rows(hub: str | os.PathLike, splits: Sequence[str] = ("train", "validation", "test")) -> dict[str, list]:
    """Bench questions of ``splits`` from a built hub folder, joined with the trial model, keyed as the scorer keys.

    ``hub`` is the hub root (holding ``deepimagine/bench`` and ``deepimagine/trials``) or its ``deepimagine``
    folder. Each row holds the shared fields (see the module docstring) and ``design`` (the ``full`` set's fields).

    >>> rows = bench_rows("hub", ["test"])  # doctest: +SKIP
    >>> len(rows["test"]), rows["test"][0]["key"]  # doctest: +SKIP
    (912, ('NCT00004921', 'NCT00004921:O0', 0))
    """
    from ..hub import read_split
    from ..scoring.questions import bench_questions

    root = _hub_root(hub)
    trials = {r["trial_id"]: r for r in read_split(root / "trials", "trials", "train").to_pylist()}
    normalized: dict[tuple[str, str], str] = {}
    for r in read_split(root / "trials", "interventions", "train").to_pylist():
        if r["normalized_name"]:
            normalized[(r["trial_id"], r["name"])] = r["normalized_name"]
    out = {}
    for split in splits:
        keys = {q.question_id: q.key for q in bench_questions(root / "bench", split)}
        rows = []
        for q in read_split(root / "bench", "questions", split).to_pylist():
            rows.append(_bench_row(q, trials.get(q["trial_id"]) or {}, normalized, keys[q["question_id"]], split))
        rows.sort(key=lambda r: r["question_id"])
        out[split] = rows
    return out


def _bench_row(q: dict, trial: dict, normalized: dict, key: tuple, split: str) -> dict:
    implicit = q["arms_mode"] == "implicit"
    side = {}
    for s in ("a", "b"):
        side[s] = _arm(q[f"{s}_title"], q[f"{s}_description"], q[f"{s}_arm_type"], q[f"{s}_interventions"])
    return {
        "key": tuple(key),
        "question_id": q["question_id"],
        "nct_id": q["nct_id"] or q["trial_id"],
        "trial_id": q["trial_id"],
        "source": "bench",
        "split": split,
        "posted": q["results_first_posted_date"],
        "category": q["category"],
        "question_type": q["question_type"],
        "options": list(q["options"]),
        "answer_index": q["answer_index"],  # the label; never read by FeatureSpace
        "brief_title": q["brief_title"] or "",
        "arms": [_arm(a["title"], a["description"], a["arm_type"], a["interventions"]) for a in q["arms"] or []],
        # the question names no arm when it is implicit (CT Open's 2-way implicit), so neither do the features
        "arm_b": None if implicit else side["b"],
        "arm_a": None if implicit else side["a"],
        "outcome_title": q["outcome_title"] or "",
        "outcome_description": q["outcome_description"] or "",
        "outcome_time_frame": q["outcome_time_frame"] or "",
        "outcome_type": q["outcome_type"],
        "design": {
            "phase": trial.get("phase"),
            "enrollment": trial.get("enrollment"),
            "allocation": trial.get("allocation"),
            "masking": trial.get("masking"),
            "intervention_model": trial.get("intervention_model"),
            "primary_purpose": trial.get("primary_purpose"),
            "sponsor_class": trial.get("sponsor_class"),
            "data_source": q["source"],
            "conditions": [c.strip().lower() for c in q["conditions"] or [] if c and c.strip()],
            "mesh_interventions": [m.lower() for m in trial.get("mesh_interventions") or [] if m],
            "b_normalized": [normalized.get((q["trial_id"], n), n.lower()) for n in q["b_interventions"] or []],
            "a_normalized": [normalized.get((q["trial_id"], n), n.lower()) for n in q["a_interventions"] or []],
            "param_type": q["param_type"],
            "estimate_type": q["estimate_type"],
            "polarity": q["polarity"],
            "non_inferiority": "yes" if q["is_non_inferiority"] else "no",
            "dose_match": q["dose_match"],
        },
    }


def _ctopen_arm(a: dict) -> dict:
    names = [i.get("name") for i in a.get("interventions") or [] if isinstance(i, dict) and i.get("name")]
    if not names:  # "Drug: Atogepant" -> "Atogepant"
        names = [n.split(": ", 1)[-1] for n in a.get("interventionNames") or [] if isinstance(n, str)]
    return _arm(a.get("label"), a.get("description"), a.get("type"), names)


def _find_arm(arms: list[dict], label: str) -> dict:
    for a in arms:
        if a["title"] == label:
            return a
    low = label.strip().lower()
    for a in arms:
        if a["title"].strip().lower() == low:
            return a
    return _arm(label, "", None, [])  # the label as the question states it; arm type unknown


def ctopen_question_type(category: str) -> str:
    """The bench question type a CT Open question corresponds to: the bench asks CT Open's 2-way explicit
    (superiority) and 3-way questions in CT Open's words and option order (``pairs/render.py``), and its implicit
    "endpoint met" question like CT Open's ``no_arm`` one.

    >>> ctopen_question_type("2-way explicit"), ctopen_question_type("3-way explicit")
    ('superiority_2way', 'comparative_3way')
    """
    if category == "2-way implicit":
        return "endpoint_2way"
    return "comparative_3way" if category == "3-way explicit" else "superiority_2way"


def _compared(category: str, options: Sequence[str], arms: list[dict]) -> tuple[dict | None, dict | None]:
    if category == "2-way implicit":
        return None, None
    m = (_COMPARATIVE if category == "3-way explicit" else _SUPERIORITY).match(options[0])
    if m is None:
        return None, None
    return _find_arm(arms, m.group("b")), _find_arm(arms, m.group("a"))


def ctopen_rows(edition: str, source: str | os.PathLike | None = None) -> list[dict]:
    """Every question of a CT Open edition as a row of the ``text`` feature set (``design`` is None).

    Reads only the fields named in the module docstring; the answer is kept as ``answer_index`` for scoring.

    >>> rows = ctopen_rows("winter2025", "../shared/data/ct_open")  # doctest: +SKIP
    >>> len(rows), rows[0]["question_type"], rows[0]["arm_b"]["arm_type"]  # doctest: +SKIP
    (605, 'superiority_2way', 'EXPERIMENTAL')
    """
    from .. import ctopen

    raw = ctopen.load_edition(edition, source)
    out = []
    for rec in ctopen.records(edition, source):
        value = raw[rec.key]
        arms = [_ctopen_arm(a) for a in value.get("arms") or [] if isinstance(a, dict)]
        listed = [_ctopen_arm(a) for a in value.get("listed_arms") or [] if isinstance(a, dict)]
        for i, opts in enumerate(rec.questions):
            cat = rec.categories[i]
            b, a = _compared(cat, opts, arms)
            out.append(
                {
                    "key": rec.prediction_key(i),
                    "question_id": f"{rec.nct_id}|{rec.endpoint}|{i}",
                    "nct_id": rec.nct_id,
                    "trial_id": rec.nct_id,
                    "source": "ctopen",
                    "split": edition,
                    "posted": None,
                    "category": cat,
                    "question_type": ctopen_question_type(cat),
                    "options": list(opts),
                    "answer_index": rec.answer_index[i],  # the label; never read by FeatureSpace
                    "brief_title": rec.brief_title or "",
                    # an implicit "at least one arm listed here" question: the listed arms are its subject
                    "arms": arms + [x for x in listed if x["title"] not in {y["title"] for y in arms}],
                    "arm_b": b,
                    "arm_a": a,
                    "outcome_title": rec.measure or "",
                    "outcome_description": rec.description or "",
                    "outcome_time_frame": rec.time_frame or "",
                    "outcome_type": _OUTCOME_TYPES.get(rec.outcome_type or "", rec.outcome_type),
                    "design": None,
                }
            )
    return out


# --- per-row views ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def _canonical(name: str) -> str | None:
    from ..normalize.names import canonical_name

    return canonical_name(name)


@lru_cache(maxsize=65536)
def _parse_dose(text: str):
    # memoized: a trial's arm texts recur in every question about it, and the parser is the slow part of a row
    from ..normalize.dose import parse_dose

    return parse_dose(text)


def _canon(names: Sequence[str]) -> list[str]:
    return sorted({c for c in (_canonical(n) for n in names) if c})


def _arm_text(a: dict | None) -> str:
    if a is None:
        return ""
    return " ".join([a["title"], a["description"], *a["interventions"]])


def _dose(a: dict | None):
    if a is None:
        return None
    return _parse_dose(a["title"]) or _parse_dose(a["description"])


def _categorical(row: dict, full: bool) -> dict[str, str]:
    b, a = row["arm_b"], row["arm_a"]
    bt = (b["arm_type"] or "UNKNOWN") if b else "NONE"
    at = (a["arm_type"] or "UNKNOWN") if a else "NONE"
    out = {
        "category": row["category"],
        "question_type": row["question_type"],
        "outcome_type": row["outcome_type"] or "UNKNOWN",
        "arm_b_type": bt,
        "arm_a_type": at,
        "arm_pair": f"{bt}|{at}",
    }
    if full:
        d = row["design"] or {}
        for k in ("phase", "allocation", "masking", "intervention_model", "primary_purpose", "sponsor_class"):
            out[k] = d.get(k) or "UNKNOWN"
        for k in ("data_source", "param_type", "estimate_type", "polarity", "non_inferiority", "dose_match"):
            out[k] = d.get(k) or "UNKNOWN"
    return out


def _numeric(row: dict, full: bool) -> dict[str, float]:
    """Raw numbers (NaN where unknown); the fitted space imputes train medians and adds missing indicators."""
    types = Counter(a["arm_type"] or "UNKNOWN" for a in row["arms"])
    b, a = row["arm_b"], row["arm_a"]
    out = {"n_arms": float(len(row["arms"])), "n_options": float(len(row["options"]))}
    for t in ARM_TYPES:
        out[f"arms_{t.lower()}"] = float(types.get(t, 0))
    out["b_n_interventions"] = float(len(b["interventions"])) if b else 0.0
    out["a_n_interventions"] = float(len(a["interventions"])) if a else 0.0
    db, da = _dose(b), _dose(a)
    out["b_has_dose"] = float(db is not None)
    out["a_has_dose"] = float(da is not None)
    same = db is not None and da is not None and db.unit == da.unit and db.value > 0 and da.value > 0
    out["dose_log_ratio"] = math.log(db.value / da.value) if same else math.nan
    if full:
        e = (row["design"] or {}).get("enrollment")
        out["log_enrollment"] = math.log1p(e) if isinstance(e, int | float) and e >= 0 else math.nan
    return out


def _multi(row: dict, full: bool) -> dict[str, list[str]]:
    b, a = row["arm_b"], row["arm_a"]
    out = {
        "b_intervention": _canon(b["interventions"]) if b else [],
        "a_intervention": _canon(a["interventions"]) if a else [],
        "trial_intervention": _canon([n for arm in row["arms"] for n in arm["interventions"]]),
    }
    if full:
        d = row["design"] or {}
        out["condition"] = sorted(set(d.get("conditions") or []))
        out["mesh_intervention"] = sorted(set(d.get("mesh_interventions") or []))
        out["b_normalized"] = sorted(set(d.get("b_normalized") or []))
        out["a_normalized"] = sorted(set(d.get("a_normalized") or []))
    return out


def _texts(row: dict, full: bool) -> dict[str, str]:
    trial = [row["brief_title"]]
    if full:
        trial += (row["design"] or {}).get("conditions") or []
    for arm in row["arms"]:
        trial += [arm["title"], *arm["interventions"]]
    return {
        "trial": " ".join(trial),
        "endpoint": " ".join([row["outcome_title"], row["outcome_description"], row["outcome_time_frame"]]),
        "arm_b": _arm_text(row["arm_b"]),
        "arm_a": _arm_text(row["arm_a"]),
    }


def knn_text(row: dict) -> str:
    """The text view embedded for the kNN baseline (same fields from both sources).

    >>> knn_text({"question_type": "superiority_2way", "brief_title": "Drug X in asthma", "outcome_title": "FEV1",
    ...           "outcome_time_frame": "12 weeks", "arm_b": {"title": "X", "arm_type": "EXPERIMENTAL"},
    ...           "arm_a": {"title": "Placebo", "arm_type": "PLACEBO_COMPARATOR"}})
    'superiority_2way. Drug X in asthma. Endpoint: FEV1 (12 weeks). Arms: X [EXPERIMENTAL] vs Placebo [PLACEBO_COMPARATOR].'
    """  # noqa: E501 - a doctest's expected line cannot wrap
    b, a = row["arm_b"], row["arm_a"]
    arms = f" Arms: {b['title']} [{b['arm_type']}] vs {a['title']} [{a['arm_type']}]." if b and a else ""
    when = f" ({row['outcome_time_frame']})" if row["outcome_time_frame"] else ""
    return f"{row['question_type']}. {row['brief_title']}. Endpoint: {row['outcome_title']}{when}.{arms}"


# --- fitted blocks ---------------------------------------------------------------------------------------------


class _TopK:
    """Multi-hot of the ``k`` most frequent items in the training rows (at least ``min_count`` times; ties by name)."""

    def __init__(self, k: int, min_count: int):
        self.k, self.min_count = k, min_count
        self.items: list[str] = []

    def fit(self, lists: Sequence[Sequence[str]]) -> _TopK:
        counts = Counter(x for xs in lists for x in set(xs))
        ranked = sorted((c for c in counts.items() if c[1] >= self.min_count), key=lambda c: (-c[1], c[0]))
        self.items = [x for x, _ in ranked[: self.k]]
        return self

    def transform(self, lists: Sequence[Sequence[str]]):
        from scipy import sparse

        index = {x: i for i, x in enumerate(self.items)}
        rows, cols = [], []
        for r, xs in enumerate(lists):
            for c in sorted({index[x] for x in xs if x in index}):
                rows.append(r)
                cols.append(c)
        data = np.ones(len(rows))
        return sparse.csr_matrix((data, (rows, cols)), shape=(len(lists), len(self.items)))


class FeatureSpace:
    """Every fitted part of the baselines' features: fit on training rows, transform any rows.

    ``feature_set``: ``"text"`` (shared by the bench and CT Open) or ``"full"`` (bench only, needs ``design``).
    ``view`` — how the same fields become columns:

    - ``"sparse"`` (lr): one-hot categories, imputed and scaled numbers with missing indicators, top-100 names,
      TF-IDF blocks (up to 3,500 words); scipy CSR;
    - ``"compact"`` (rf, gbm): the same categories with rare values pooled (fewer than 20 training rows), numbers,
      top-15 names, and each TF-IDF block reduced to 10 latent components (TruncatedSVD, fitted on train), every
      continuous column quantized to at most 255 levels at its training quantiles; a dense array of 259 (``full``)
      or 126 (``text``) columns, because histogram boosting pays for every column (4,386 sparse columns densified:
      250-450 s per gbm fit on 2 cores, measured);
    - ``"embedding"`` (knn): a sentence embedding of :func:`knn_text` (``embedder``, default
      ``Embedder(progress=False)``: bundled MiniLM, cached under ``~/.cache/deepimagine``) beside the one-hot
      categories scaled to norm 0.5; dense.

    >>> space = FeatureSpace("text").fit(train_rows)  # doctest: +SKIP
    >>> x = space.transform(ctopen_rows("winter2025"))  # doctest: +SKIP
    >>> "placebo" in space.vocabulary(), space.n_train  # doctest: +SKIP
    (True, 5482)
    """

    def __init__(self, feature_set: str = "full", *, view: str = "sparse", embedder: Any = None) -> None:
        if feature_set not in FEATURE_SETS:
            raise ValueError(f"feature_set must be one of {', '.join(FEATURE_SETS)}, got {feature_set!r}")
        if view not in VIEWS:
            raise ValueError(f"view must be one of {', '.join(VIEWS)}, got {view!r}")
        self.feature_set = feature_set
        self.view = view
        self._embedder = embedder
        self.fitted = False
        self.n_train = 0
        self.train_ids: frozenset[str] = frozenset()

    @property
    def full(self) -> bool:
        return self.feature_set == "full"

    @property
    def embeddings(self) -> bool:
        return self.view == "embedding"

    def _check(self, rows: Sequence[dict]) -> None:
        if self.full:
            bad = next((r for r in rows if r.get("design") is None), None)
            if bad is not None:
                raise ValueError(
                    f"{bad['question_id']}: the 'full' feature set needs the trial model (design), which a "
                    f"{bad['source']} row does not have; use feature_set='text'"
                )

    def fit(self, rows: Sequence[dict]) -> FeatureSpace:
        """Fit every vocabulary, category list, imputation value, scale and projection on ``rows`` (train only)."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        if not rows:
            raise ValueError("no training rows to fit the feature space on")
        self._check(rows)
        full, compact = self.full, self.view == "compact"
        cats = [_categorical(r, full) for r in rows]
        self.cat_names = sorted(k for k in cats[0] if not (compact and k == "arm_pair"))  # trees combine the two
        min_freq = COMPACT_MIN_FREQUENCY if compact else ONEHOT_MIN_FREQUENCY
        self.onehot = OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=min_freq, sparse_output=True)
        self.onehot.fit([[c[k] for k in self.cat_names] for c in cats])
        self.tfidf: dict[str, Any] = {}
        self.svd: dict[str, Any] = {}
        if not self.embeddings:
            nums = [_numeric(r, full) for r in rows]
            self.num_names = sorted(nums[0])
            arr = np.array([[n[k] for k in self.num_names] for n in nums], dtype=float)
            self.medians = np.array([np.nanmedian(col) if np.isfinite(col).any() else 0.0 for col in arr.T])
            self.missing_cols = [i for i in range(arr.shape[1]) if np.isnan(arr[:, i]).any()]
            self.scaler = StandardScaler().fit(self._impute(arr))
            multis = [_multi(r, full) for r in rows]
            self.multi_names = sorted(multis[0])
            k = COMPACT_TOP_K if compact else TOP_K
            self.topk = {n: _TopK(k, TOP_K_MIN_COUNT).fit([m[n] for m in multis]) for n in self.multi_names}
            texts = [_texts(r, full) for r in rows]
            for name, n in TFIDF_MAX.items():
                docs = [t[name] for t in texts]
                vec = TfidfVectorizer(
                    stop_words="english", min_df=TFIDF_MIN_DF, max_features=n, sublinear_tf=True, dtype=np.float64
                )
                try:
                    x = vec.fit_transform(docs)
                except ValueError:  # every word below min_df or a stop word: no vocabulary, no block
                    continue
                self.tfidf[name] = vec
                if compact and x.shape[1] > COMPACT_SVD:
                    from sklearn.decomposition import TruncatedSVD

                    # a fixed seed: the projection is part of the fitted space and must not vary between runs
                    self.svd[name] = TruncatedSVD(COMPACT_SVD, random_state=0).fit(x)
        self.levels: dict[int, np.ndarray] = {}
        self.fitted = True
        if compact:
            # Quantize each continuous column to at most COMPACT_LEVELS values at its training quantiles: a
            # monotone map, which trees are invariant to, and the resolution HistGradientBoosting bins to anyway.
            # Why here: with class weights, scikit-learn 1.9 bins a column of more than 255 distinct values with
            # one weighted-percentile call per bin edge (~7 s per gbm fit on 41 such columns, whatever the rows).
            x = self._columns(rows)
            for j in range(x.shape[1]):
                if len(np.unique(x[:, j])) > COMPACT_LEVELS:
                    q = np.quantile(x[:, j], np.linspace(0.0, 1.0, COMPACT_LEVELS + 1)[1:-1])
                    self.levels[j] = np.unique(q)
        self.n_train = len(rows)
        self.train_ids = frozenset(r["question_id"] for r in rows)
        self.fitted = True
        return self

    def _impute(self, arr: np.ndarray) -> np.ndarray:
        miss = np.isnan(arr)
        filled = np.where(miss, self.medians[None, :], arr)
        return np.hstack([filled, miss[:, self.missing_cols].astype(float)])

    def _embed(self, rows: Sequence[dict]) -> np.ndarray:
        if self._embedder is None:
            from ..retrieval import Embedder

            self._embedder = Embedder(progress=False)
        return self._embedder.embed([knn_text(r) for r in rows]).astype(np.float64)

    def transform(self, rows: Sequence[dict]):
        """The feature matrix of ``rows``: scipy CSR (``sparse``) or a dense float64 array (other views)."""
        from scipy import sparse

        if not self.fitted:
            raise RuntimeError("FeatureSpace.transform before fit")
        self._check(rows)
        if self.embeddings:
            if not rows:
                return np.zeros((0, len(self.feature_names())))
            cats = [_categorical(r, self.full) for r in rows]
            cat = self.onehot.transform([[c[k] for k in self.cat_names] for c in cats])
            dense = np.asarray(cat.todense(), dtype=np.float64)
            norms = np.linalg.norm(dense, axis=1, keepdims=True)
            dense = KNN_CATEGORY_WEIGHT * dense / np.where(norms > 0, norms, 1.0)
            return np.hstack([self._embed(rows), dense])
        if not rows:
            return sparse.csr_matrix((0, len(self.feature_names()))) if self.view == "sparse" else np.zeros((0, 0))
        out = self._columns(rows)
        if self.view == "sparse":
            return out
        for j, edges in self.levels.items():
            out[:, j] = np.searchsorted(edges, out[:, j], side="right")
        return out

    def _columns(self, rows: Sequence[dict]):
        """The sparse and compact views before quantization (CSR for sparse, dense for compact)."""
        from scipy import sparse

        full = self.full
        cats = [_categorical(r, full) for r in rows]
        cat = self.onehot.transform([[c[k] for k in self.cat_names] for c in cats])
        nums = [_numeric(r, full) for r in rows]
        arr = np.array([[n[k] for k in self.num_names] for n in nums], dtype=float).reshape(len(rows), -1)
        blocks = [cat, sparse.csr_matrix(self.scaler.transform(self._impute(arr)))]
        multis = [_multi(r, full) for r in rows]
        blocks += [self.topk[k].transform([m[k] for m in multis]) for k in self.multi_names]
        texts = [_texts(r, full) for r in rows]
        for k, vec in self.tfidf.items():
            x = vec.transform([t[k] for t in texts])
            blocks.append(sparse.csr_matrix(self.svd[k].transform(x)) if k in self.svd else x)
        out = sparse.hstack(blocks, format="csr", dtype=np.float64)
        return out if self.view == "sparse" else out.toarray()

    def fit_transform(self, rows: Sequence[dict]):
        return self.fit(rows).transform(rows)

    def vocabulary(self) -> set[str]:
        """Every word any fitted TF-IDF block knows (empty for the embedding view)."""
        return {w for vec in self.tfidf.values() for w in vec.vocabulary_} if self.fitted else set()

    def analyzer(self) -> Callable[[str], list[str]]:
        """The fitted TF-IDF tokenizer (to check which words a row's text would contribute)."""
        return next(iter(self.tfidf.values())).build_analyzer()

    def row_texts(self, row: dict) -> dict[str, str]:
        """The text of each TF-IDF block for ``row`` (what :meth:`fit` reads words from)."""
        return _texts(row, self.full)

    def feature_names(self) -> list[str]:
        """One name per column of :meth:`transform`, in order (``block:value``)."""
        names = [f"cat:{n}" for n in self.onehot.get_feature_names_out(self.cat_names)]
        if self.embeddings:
            dim = self._embedder.dim if self._embedder is not None else 0
            return [f"emb:{i}" for i in range(dim)] + names
        names += [f"num:{n}" for n in self.num_names] + [f"missing:{self.num_names[i]}" for i in self.missing_cols]
        for k in self.multi_names:
            names += [f"{k}:{x}" for x in self.topk[k].items]
        for k, vec in self.tfidf.items():
            if k in self.svd:
                names += [f"svd_{k}:{i}" for i in range(COMPACT_SVD)]
            else:
                names += [f"tfidf_{k}:{w}" for w in vec.get_feature_names_out()]
        return names

    def summary(self) -> dict[str, int]:
        """Columns per block (reported by ``deepimagine baseline run``)."""
        out: dict[str, int] = defaultdict(int)
        for n in self.feature_names():
            out[n.split(":", 1)[0]] += 1
        return dict(out)
