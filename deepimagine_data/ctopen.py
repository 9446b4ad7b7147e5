"""CT Open (Wang et al., COLM 2026): load the Winter 2025 and Summer 2025 benchmarks safely, list their trials.

CT Open (https://github.com/ClinicalTrial-OpenChallenge/CT_Open) asks whether a trial met an endpoint, using only
what was public before a cutoff (Winter 2025: 2025-02-01, Summer 2025: 2025-09-01). The repository has no license,
so this package never ships its files: :func:`load_edition` reads ``datasets/<Edition>.pickle`` at the pinned
commit from ``raw.githubusercontent.com`` (cached under ``$DEEPIMAGINE_CACHE`` or ``~/.cache/deepimagine``), from a
local file or directory, or from a mirror URL. The pickles are untrusted input: they are read with
:class:`RestrictedUnpickler`, which refuses every global (no ``os.system``, no class instances), and the result
must be a tree of builtin containers and scalars.

Raw format: a dict keyed by ``(nct_id, endpoint)``, where ``endpoint`` is the repr of a Python dict with
``measure``, ``timeFrame``, ``outcome_type`` and usually ``description``. Each value holds ``brief_title``,
``endpoint`` (the same string), ``arms``, ``meta_label``, ``list_of_tuples``, ``no_arm_label``,
``distinguishable_arm``, ``reported_results``, ``question_list_of_lists`` (one list of answer options per
question), ``answer_list_of_lists`` (despite the name, a flat list: one answer string per question),
``listed_arms``, ``real_arm`` and ``question_idx2result_idx_list``. One real record (Winter 2025, abbreviated)::

    key = ("NCT05799287",
           "{'measure': 'Change from baseline in urine protein creatinine ratio (UPCR)', "
           "'description': 'Based on a 24-hour urine collections.', 'timeFrame': '39 weeks', "
           "'outcome_type': 'primaryOutcomes'}")
    value["brief_title"] = "A Study of Telitacicept in Patients with Primary Immunoglobulin A（IgA） Nephropathy"
    value["meta_label"] = "single_arm"
    value["list_of_tuples"] = [("Telitacicept", "MET", "Placebo")]
    value["question_list_of_lists"] = [["The study arm Telitacicept has achieved statistically significant
        improvements over the study arm Placebo with respect to this specific endpoint.",
        "The study arm Telitacicept has not achieved statistically significant improvements ... worse effect."]]
    value["answer_list_of_lists"] = ["The study arm Telitacicept has achieved statistically significant ..."]

:func:`records` turns this into one :class:`CTOpenRecord` with ``answer_index=(0,)`` and
``categories=("2-way explicit",)``.

Question categories follow CT Open's ``evaluations/evaluation.py``: ``no_arm`` and ``no_distinguishable_arm`` are
implicit, ``single_arm`` and ``distinguishable_arm`` explicit, and the category is ``"<options>-way <group>"``.
The paper reports them as Endpoint (2-way implicit), Superiority (2-way explicit) and Comparative Effect (3-way
explicit); :data:`CATEGORY_NAMES` maps between the two. Measured on the Winter 2025 file at the pinned commit:

    561 endpoint records, 314 trials, 605 questions
    meta_label: single_arm 435, distinguishable_arm 46, no_arm 41, no_distinguishable_arm 39 (records)
    2-way implicit   80 questions (no_arm 41 + no_distinguishable_arm 39)
    2-way explicit  470 questions (single_arm 385 + distinguishable_arm 85)
    3-way explicit   55 questions (single_arm 50 + distinguishable_arm 5); no 3-option question is implicit
    answer_index: 2-way implicit 0:66 1:14, 2-way explicit 0:299 1:171, 3-way explicit 0:6 1:2 2:47
      (2-way: option 0 is always "met" / "has achieved statistically significant improvements";
       3-way: "A significantly worse than B", "B significantly worse than A", "no significant difference")
    every endpoint string parses with ast.literal_eval (454 with a description, 107 without)

The CT Open README gives 240 trials / 857 questions for Summer 2025 (SOURCE.md in the shared data: 781 records).

Citation::

    @inproceedings{wang2026ct,
      title={{CT} Open: An Open-Access, Uncontaminated, Live Platform for the Open Challenge of Clinical Trial
             Outcome Prediction},
      author={Jianyou Wang and Youze Zheng and Longtian Bao and Hanyuan Zhang and Qirui Zheng and Yuhan Chen and
              Yang Zhang and Matthew Feng and Maxim Khan and Aditya K Sehgal and Christopher D. Rosin and
              Mohan Paturi and Umber Dube and Leon Bergen},
      booktitle={Third Conference on Language Modeling}, year={2026},
      url={https://openreview.net/forum?id=pbGCyTrXsl}}   (arXiv:2604.16742)
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import csv
import hashlib
import io
import json
import os
import pickle
import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import http
from .errors import RecordError
from .fsutil import atomic_write_bytes

REPO = "ClinicalTrial-OpenChallenge/CT_Open"
PINNED_COMMIT = "7a29c11d037209368714a609fc6a34ddee996939"
DEFAULT_BASE = "https://raw.githubusercontent.com"
EDITIONS = {"winter2025": "Winter_2025.pickle", "summer2025": "Summer_2025.pickle"}
# Sizes at PINNED_COMMIT, for reference in error messages and docs (the files at a commit never change).
EDITION_SIZES = {"Winter_2025.pickle": 2_347_470, "Summer_2025.pickle": 2_760_570}

ENV_DIR = "DEEPIMAGINE_CTOPEN_DIR"
ENV_CACHE = "DEEPIMAGINE_CACHE"

META_LABELS = frozenset({"single_arm", "distinguishable_arm", "no_arm", "no_distinguishable_arm"})
IMPLICIT_META_LABELS = frozenset({"no_arm", "no_distinguishable_arm"})
CATEGORY_NAMES = {"2-way implicit": "Endpoint", "2-way explicit": "Superiority", "3-way explicit": "ComparativeEffect"}
# CT Open's question counts per category, and per answer option where known: Winter 2025 measured on its pickle at
# PINNED_COMMIT (see the module docstring); Summer 2025 per category from the edition's README (its answers are not
# on this machine). The bench card prints its own shares beside these.
REFERENCE_COUNTS = {
    "winter2025": {
        "2-way explicit": {"questions": 470, "answers": (299, 171)},
        "2-way implicit": {"questions": 80, "answers": (66, 14)},
        "3-way explicit": {"questions": 55, "answers": (6, 2, 47)},
    },
    "summer2025": {
        "2-way explicit": {"questions": 662, "answers": None},
        "2-way implicit": {"questions": 146, "answers": None},
        "3-way explicit": {"questions": 49, "answers": None},
    },
}

NCT_RE = re.compile(r"^NCT\d{8}$")
RETRY_STATUSES = http.RETRY_STATUSES
# A download ends within this many seconds, retries and waits included, unless `--timeout` (or deadline=) says
# otherwise: a silent server, or one dripping a byte at a time, must not hold a build or a score run forever.
DEFAULT_DEADLINE = 300.0
# A URL naming another commit (or none) may hold a newer, larger edition: its cap is this many times the known size.
SIZE_SLACK = 4
_ALLOWED_TYPES = (dict, list, tuple, set, frozenset, str, int, float, bool, type(None))
_COMMIT_RE = re.compile(r"/([0-9a-f]{40})/")


class CTOpenError(RecordError):
    """CT Open input the package refuses: an unknown edition, a forbidden pickle, an inconsistent record.

    A :class:`~deepimagine_data.errors.RecordError` (and so a ValueError), so every command prints it as one
    ``error:`` line; its message is the file, URL or record and what is wrong, as given.
    """

    def __init__(self, message: str):
        self.record, self.field, self.message, self.reason = "CT Open", "", message, "ctopen"
        ValueError.__init__(self, message)


class CTOpenDownloadError(CTOpenError):
    """A download failed: its message names the URL and the cause (HTTP status, timeout, connection error, size
    cap, deadline). ``missing="skip"`` treats it as absent."""

    def __init__(self, message: str, *, url: str = "", status: int | None = None, cause: str | None = None):
        self.url, self.status, self.cause = url, status, cause
        super().__init__(message)


# --- safe unpickling -------------------------------------------------------------------------------------------


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves no global at all.

    Every route from a pickle to a callable (GLOBAL, STACK_GLOBAL, INST, OBJ, EXT*) goes through ``find_class``,
    so refusing it there means REDUCE/BUILD never get anything to call. The CT Open files need none: they hold
    only dicts, lists, tuples, strings, ints and None.
    """

    def __init__(self, file: io.BufferedIOBase | io.BytesIO, *, name: str = "<pickle>"):
        super().__init__(file)
        self.name = name

    def find_class(self, module: str, name: str) -> Any:
        raise CTOpenError(
            f"{self.name}: refused to load global {module}.{name}; CT Open pickles hold only builtin "
            "containers and scalars, so this file is not a CT Open benchmark (or has been tampered with)"
        )


def _check_tree(obj: Any, name: str) -> None:
    # Iterative, and by id: the memo lets a pickle share or even cycle objects, which must neither recurse
    # without bound nor be walked twice.
    seen: set[int] = set()
    stack = [obj]
    while stack:
        x = stack.pop()
        if type(x) not in _ALLOWED_TYPES:
            raise CTOpenError(f"{name}: holds a {type(x).__name__} object; only builtin containers/scalars allowed")
        if isinstance(x, (dict, list, tuple, set, frozenset)):
            if id(x) in seen:
                continue
            seen.add(id(x))
            if isinstance(x, dict):
                stack.extend(x.keys())
                stack.extend(x.values())
            else:
                stack.extend(x)


def safe_load(data: bytes, name: str) -> Any:
    """Unpickle ``data`` with :class:`RestrictedUnpickler` and check that it holds only builtin types.

    ``name`` (a path or URL) goes into every error message. Raises :class:`CTOpenError` for a refused global, an
    unreadable pickle or a disallowed type (e.g. ``bytes``).
    """
    try:
        obj = RestrictedUnpickler(io.BytesIO(data), name=name).load()
    except CTOpenError:
        raise
    except Exception as e:  # a corrupt pickle fails with any of a dozen exception types
        raise CTOpenError(f"{name}: not a readable pickle ({type(e).__name__}: {e})") from e
    _check_tree(obj, name)
    return obj


# --- locating and fetching an edition --------------------------------------------------------------------------


def _file_of(edition: str) -> str:
    try:
        return EDITIONS[edition]
    except (KeyError, TypeError):
        raise CTOpenError(f"unknown CT Open edition {edition!r}; valid: {', '.join(sorted(EDITIONS))}") from None


def source_url(edition: str, commit: str = PINNED_COMMIT, base: str = DEFAULT_BASE) -> str:
    """The raw-file URL of ``edition`` in the CT Open repository at ``commit``.

    >>> source_url("winter2025")
    'https://raw.githubusercontent.com/ClinicalTrial-OpenChallenge/CT_Open/7a29c11d037209368714a609fc6a34ddee996939/datasets/Winter_2025.pickle'
    """
    return f"{base.rstrip('/')}/{REPO}/{commit}/datasets/{_file_of(edition)}"


def cache_dir() -> Path:
    """``$DEEPIMAGINE_CACHE`` or ``~/.cache/deepimagine``: the root of every download cache of the package."""
    env = os.environ.get(ENV_CACHE)
    return Path(env) if env else Path.home() / ".cache" / "deepimagine"


def _cache_path(url: str, file: str) -> Path:
    # A URL naming a commit is immutable content, so any mirror of that commit shares one cache entry; any other
    # URL (a branch, a private mirror) gets its own entry so two sources never overwrite each other.
    m = _COMMIT_RE.search(url)
    key = m.group(1) if m else "url-" + hashlib.sha256(url.encode()).hexdigest()[:16]
    return cache_dir() / "ct_open" / key / file


def local_source(edition: str, source: str | os.PathLike | None = None) -> str | os.PathLike | None:
    """Where an edition's pickle is without a download: ``source`` as given, else ``$DEEPIMAGINE_CTOPEN_DIR``, else
    the file an earlier download left in the cache; None when none of these is there (nothing is fetched)."""
    if source is not None:
        return source
    if os.environ.get(ENV_DIR):
        return os.environ[ENV_DIR]
    cached = _cache_path(source_url(edition), _file_of(edition))
    return cached if cached.is_file() else None


_deadline: list[tuple[float | None, str | None]] = [(DEFAULT_DEADLINE, None)]


@contextlib.contextmanager
def download_deadline(seconds: float | None, name: str | None = "--timeout") -> Iterator[None]:
    """Within the block, a CT Open download that is given no ``deadline=`` ends within ``seconds`` (None: no
    deadline); ``name`` says in messages where the number came from. How the CLI's ``--timeout`` reaches
    :func:`records` and :func:`exclusion_ids` through the commands that call them."""
    _deadline.append((seconds, name))
    try:
        yield
    finally:
        _deadline.pop()


def add_timeout_argument(parser: argparse.ArgumentParser) -> None:
    """``--timeout SECONDS`` on a command that may download CT Open (read back by :func:`download_deadline`)."""
    parser.add_argument(
        "--timeout",
        dest="ctopen_timeout",
        type=http.seconds_arg,
        default=None,
        metavar="SECONDS",
        help=f"overall deadline for downloading a CT Open pickle, retries included (default {DEFAULT_DEADLINE:g}); "
        "a silent or stalled server fails within it with a message saying so",
    )


def _size_cap(url: str, file: str) -> tuple[int, str]:
    size = EDITION_SIZES[file]
    if PINNED_COMMIT in url:
        return size, f"the size of {file} at the pinned commit"
    return SIZE_SLACK * size, f"{SIZE_SLACK} times the size of {file} at the pinned commit"


def _fetch(
    url: str,
    *,
    timeout: float,
    retries: int,
    backoff: float,
    deadline: float | None = None,
    max_bytes: int | None = None,
    why_cap: str = "",
) -> bytes:
    seconds, name = (deadline, None) if deadline is not None else _deadline[-1]
    policy = http.Policy(retries=retries, backoff=backoff, timeout=timeout, max_bytes=max_bytes)
    try:
        return http.fetch("GET", url, policy, deadline=http.Deadline(seconds, name=name)).body
    except http.FetchError as e:
        if e.cause == http.STATUS and not e.exhausted:
            msg = f"HTTP {e.status} for {url}"
        elif e.exhausted:
            msg = f"could not download {url}: gave up after {e.attempts} attempts; last error: {e.last}"
        else:
            msg = f"could not download {url}: {e.last}" + (f" (the cap is {why_cap})" if e.cause == http.SIZE else "")
        raise CTOpenDownloadError(msg, url=url, status=e.status, cause=e.cause) from None


def _load_url(
    url: str,
    file: str,
    *,
    timeout: float,
    retries: int,
    backoff: float,
    deadline: float | None = None,
    max_bytes: int | None = None,
) -> Any:
    cached = _cache_path(url, file)
    if cached.is_file():
        try:
            return safe_load(cached.read_bytes(), str(cached))
        except CTOpenError as e:
            # Only validated bytes are ever cached, so this file was changed after the download.
            raise CTOpenError(f"{e} (cached copy of {url}; delete it to download again)") from None
    cap, why = (max_bytes, "max_bytes") if max_bytes is not None else _size_cap(url, file)
    data = _fetch(url, timeout=timeout, retries=retries, backoff=backoff, deadline=deadline, max_bytes=cap, why_cap=why)
    # Parse before caching: a truncated or hostile body must never become a "good" cached file.
    obj = safe_load(data, url)
    atomic_write_bytes(cached, data, suffix=".part")
    return obj


def _missing(path: Path, edition: str, what: str) -> FileNotFoundError:
    file = _file_of(edition)
    return FileNotFoundError(
        f"{what} {path} not found. Get {file} ({EDITION_SIZES[file]:,} bytes) from {source_url(edition)} and pass "
        f"its path or folder as source=, or set {ENV_DIR} to that folder"
    )


def _local_file(path: Path, edition: str) -> Path:
    file = _file_of(edition)
    if path.is_dir():
        # A plain folder of pickles, or a clone of the CT Open repository (datasets/<file>).
        for candidate in (path / file, path / "datasets" / file):
            if candidate.is_file():
                return candidate
        raise _missing(path / file, edition, "CT Open file")
    if not path.is_file():
        raise _missing(path, edition, "CT Open file")
    return path


def _check_name(name: str, edition: str) -> None:
    # Loading Summer_2025.pickle as winter2025 would silently mislabel every list built from it.
    stem = name.rsplit("/", 1)[-1]
    others = {f for e, f in EDITIONS.items() if e != edition}
    if stem in others:
        raise CTOpenError(f"{name} is not the {edition} edition (expected {EDITIONS[edition]})")


def load_edition(
    edition: str,
    source: str | os.PathLike | None = None,
    *,
    timeout: float = 60.0,
    retries: int = 2,
    backoff: float = 1.0,
    deadline: float | None = None,
    max_bytes: int | None = None,
) -> dict:
    """Load one CT Open edition as the raw dict (see the module docstring for its layout).

    ``source``:

    - a path to a ``.pickle`` file, or a directory holding ``<Edition>.pickle`` (or ``datasets/<Edition>.pickle``);
    - an ``http(s)://`` URL of the file, or of a base ending in ``/`` to which ``<Edition>.pickle`` is appended;
    - ``None``: the directory in ``$DEEPIMAGINE_CTOPEN_DIR`` if set, else :func:`source_url` (pinned commit).

    Downloads retry ``retries`` times on HTTP 429/5xx, connection errors and timeouts (waiting ``backoff * 2**n``
    s, or the server's Retry-After up to a minute); ``timeout`` bounds each wait for the next bytes, ``deadline``
    the whole download (default: :func:`download_deadline`'s, else :data:`DEFAULT_DEADLINE` s), and ``max_bytes``
    its size (default: the file's known size at the pinned commit, :data:`SIZE_SLACK` times it for another URL).
    Downloads are cached as ``<cache_dir()>/ct_open/<commit>/<file>``; a cached file is reused without a request.

    Raises:
        CTOpenError: unknown edition, a refused or unreadable pickle, or a top level that is not a dict.
        CTOpenDownloadError: HTTP error (e.g. 404), retries exhausted, the size cap or the deadline; the message
            names the URL and the cause.
        FileNotFoundError: a local path without the file; the message names the path and the pinned URL.
    """
    file = _file_of(edition)
    if source is None:
        env = os.environ.get(ENV_DIR)
        if env:
            if not Path(env).is_dir():
                raise _missing(Path(env), edition, f"{ENV_DIR} folder")
            source = env
        else:
            source = source_url(edition)
    src = os.fspath(source)
    if isinstance(src, bytes):
        src = os.fsdecode(src)
    if src.startswith(("http://", "https://")):
        url = src + file if src.endswith("/") else src
        _check_name(url, edition)
        obj = _load_url(
            url, file, timeout=timeout, retries=retries, backoff=backoff, deadline=deadline, max_bytes=max_bytes
        )
        where = url
    elif "://" in src:
        raise CTOpenError(f"unsupported source {src!r}: give a local path or an http(s) URL")
    else:
        path = _local_file(Path(src).expanduser(), edition)
        _check_name(path.name, edition)
        obj = safe_load(path.read_bytes(), str(path))
        where = str(path)
    if not isinstance(obj, dict):
        raise CTOpenError(f"{where}: expected a dict of CT Open records, got {type(obj).__name__}")
    return obj


# --- records ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CTOpenRecord:
    """One endpoint of one trial in a CT Open edition, with its questions.

    ``questions[i]`` are the answer options of question ``i``, ``answers[i]`` the correct option and
    ``answer_index[i]`` its position (first match, as CT Open's evaluation does). ``measure``, ``description``,
    ``time_frame`` and ``outcome_type`` come from the endpoint string; all four are None if it does not parse
    (``endpoint`` keeps the raw string, which is also ``key[1]``). ``key`` is the original pickle key; a CT Open
    prediction is keyed ``key + (i,)``, see :meth:`prediction_key`. All fields are immutable, so records hash.
    """

    edition: str
    nct_id: str
    key: tuple
    endpoint: str
    measure: str | None
    description: str | None
    time_frame: str | None
    outcome_type: str | None
    brief_title: str | None
    meta_label: str
    questions: tuple[tuple[str, ...], ...]
    answers: tuple[str, ...]
    answer_index: tuple[int, ...]
    categories: tuple[str, ...]

    def prediction_key(self, question: int) -> tuple:
        """The key CT Open's ``evaluate_multiple_runs`` expects for question ``question`` of this endpoint."""
        if not 0 <= question < len(self.questions):
            raise IndexError(f"{self.nct_id}: question {question} out of range (0..{len(self.questions) - 1})")
        return (*self.key, question)


def parse_endpoint(raw: str) -> dict | None:
    """Parse an endpoint string (a Python dict repr) with :func:`ast.literal_eval`; None if it is not a dict.

    >>> parse_endpoint("{'measure': 'Overall survival', 'timeFrame': '2 years', 'outcome_type': 'primaryOutcomes'}")
    {'measure': 'Overall survival', 'timeFrame': '2 years', 'outcome_type': 'primaryOutcomes'}
    """
    try:
        value = ast.literal_eval(raw)  # literal_eval builds literals only: it cannot call anything
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def question_category(n_options: int, meta_label: str) -> str:
    """CT Open's category of a question: ``"2-way implicit"``, ``"2-way explicit"`` or ``"3-way explicit"``.

    Raises CTOpenError for a combination CT Open's evaluation does not score (an unknown meta_label, another
    number of options, or a 3-option implicit question).

    >>> question_category(2, "no_arm"), question_category(2, "single_arm"), question_category(3, "single_arm")
    ('2-way implicit', '2-way explicit', '3-way explicit')
    """
    if meta_label not in META_LABELS:
        raise CTOpenError(f"unknown meta_label {meta_label!r}; known: {', '.join(sorted(META_LABELS))}")
    group = "implicit" if meta_label in IMPLICIT_META_LABELS else "explicit"
    category = f"{n_options}-way {group}"
    if category not in CATEGORY_NAMES:
        raise CTOpenError(f"no CT Open category for {n_options} options with meta_label {meta_label!r}")
    return category


def _opt_str(d: dict | None, field: str) -> str | None:
    v = (d or {}).get(field)
    return v if isinstance(v, str) else None


def _key_nct(edition: str, key: Any) -> str:
    if not (isinstance(key, tuple) and len(key) >= 2 and isinstance(key[0], str) and isinstance(key[1], str)):
        raise CTOpenError(f"{edition}: key {key!r:.120} is not a (nct_id, endpoint, ...) tuple of strings")
    if not NCT_RE.match(key[0]):
        raise CTOpenError(f"{edition}: key {key[0]!r:.60} is not an NCT id")
    return key[0]


def _record(edition: str, key: Any, value: Any) -> CTOpenRecord:
    nct = _key_nct(edition, key)
    if not isinstance(value, dict):
        raise CTOpenError(f"{edition}: {nct}: record is a {type(value).__name__}, not a dict")
    questions, answers = value.get("question_list_of_lists"), value.get("answer_list_of_lists")
    if not isinstance(questions, list) or not all(
        isinstance(q, list) and all(isinstance(o, str) for o in q) for q in questions
    ):
        raise CTOpenError(f"{edition}: {nct}: question_list_of_lists is not a list of lists of strings")
    if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
        raise CTOpenError(f"{edition}: {nct}: answer_list_of_lists is not a list of strings")
    if len(questions) != len(answers):
        raise CTOpenError(f"{edition}: {nct}: {len(questions)} questions but {len(answers)} answers")
    meta_label = value.get("meta_label")
    if not isinstance(meta_label, str):
        raise CTOpenError(f"{edition}: {nct}: meta_label is {meta_label!r}")
    index, categories = [], []
    for i, (opts, ans) in enumerate(zip(questions, answers, strict=True)):
        if ans not in opts:
            raise CTOpenError(f"{edition}: {nct}: answer of question {i} ({ans[:80]!r}) is not one of its options")
        index.append(opts.index(ans))
        try:
            categories.append(question_category(len(opts), meta_label))
        except CTOpenError as e:
            raise CTOpenError(f"{edition}: {nct}: question {i}: {e}") from None
    ep = parse_endpoint(key[1])
    title = value.get("brief_title")
    return CTOpenRecord(
        edition=edition,
        nct_id=nct,
        key=key,
        endpoint=key[1],
        measure=_opt_str(ep, "measure"),
        description=_opt_str(ep, "description"),
        time_frame=_opt_str(ep, "timeFrame"),
        outcome_type=_opt_str(ep, "outcome_type"),
        brief_title=title if isinstance(title, str) else None,
        meta_label=meta_label,
        questions=tuple(tuple(q) for q in questions),
        answers=tuple(answers),
        answer_index=tuple(index),
        categories=tuple(categories),
    )


def records(edition: str, source: str | os.PathLike | None = None) -> list[CTOpenRecord]:
    """One :class:`CTOpenRecord` per endpoint of ``edition``, in file order (``source`` as for load_edition).

    Raises CTOpenError naming the nct_id for a record whose answer is not among its options, whose question
    and answer counts differ, or whose question has no CT Open category.
    """
    return [_record(edition, k, v) for k, v in load_edition(edition, source).items()]


# --- exclusion (decontamination) lists -------------------------------------------------------------------------


def _checked_id(raw: str, where: str) -> str:
    nct = raw.strip()
    if not NCT_RE.match(nct):
        raise CTOpenError(f"{where}: {nct[:60]!r} is not an NCT id (NCT + 8 digits)")
    return nct


def read_id_file(path: str | os.PathLike) -> set[str]:
    """NCT ids from a user file: ``.csv`` (an ``nct_id`` column), ``.jsonl``/``.ndjson`` (an ``nct_id`` key) or
    text (one id per line; blank lines and ``#`` comments, also after an id, are ignored).

    Every id must match ``^NCT\\d{8}$``; otherwise CTOpenError names the file and line number.
    """
    p = Path(path)
    text = p.read_text(encoding="utf-8-sig")  # -sig: a spreadsheet's BOM would otherwise corrupt the first id
    suffix = p.suffix.lower()
    ids: set[str] = set()
    if suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        if "nct_id" not in (reader.fieldnames or []):
            raise CTOpenError(f"{p}: no nct_id column (columns: {reader.fieldnames})")
        for row in reader:
            ids.add(_checked_id(row["nct_id"] or "", f"{p}:{reader.line_num}"))
    elif suffix in (".jsonl", ".ndjson"):
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise CTOpenError(f"{p}:{n}: not JSON ({e})") from None
            if not isinstance(obj, dict) or not isinstance(obj.get("nct_id"), str):
                raise CTOpenError(f"{p}:{n}: expected an object with a string nct_id")
            ids.add(_checked_id(obj["nct_id"], f"{p}:{n}"))
    else:
        for n, line in enumerate(text.splitlines(), 1):
            content = line.split("#", 1)[0].strip()
            if content:
                ids.add(_checked_id(content, f"{p}:{n}"))
    return ids


def exclusion_ids(
    editions: Iterable[str] = tuple(EDITIONS),
    source: str | os.PathLike | None = None,
    extra_files: Iterable[str | os.PathLike] = (),
    *,
    missing: str = "error",
) -> tuple[dict[str, set[str]], dict[str, str]]:
    """The named NCT-id lists to keep out of training data, and the editions that could not be loaded.

    Returns ``(lists, skipped)``: ``lists`` maps ``"ctopen_<edition>"`` and ``"user:<file name>"`` to id sets;
    ``skipped`` maps each edition left out to the reason (only with ``missing="skip"``; empty otherwise). An
    edition is "missing" when its file is absent locally or cannot be downloaded; a refused or inconsistent file
    is always an error.
    """
    if missing not in ("error", "skip"):
        raise CTOpenError(f"missing must be 'error' or 'skip', not {missing!r}")
    if isinstance(editions, str):  # one name, not its characters
        editions = (editions,)
    lists: dict[str, set[str]] = {}
    skipped: dict[str, str] = {}
    for edition in editions:
        _file_of(edition)
        try:
            data = load_edition(edition, source)
        except (FileNotFoundError, CTOpenDownloadError) as e:
            if missing == "error":
                raise
            skipped[edition] = str(e)
            continue
        # Only the keys matter here: a question-level inconsistency must not cost a trial its exclusion.
        lists[f"ctopen_{edition}"] = {_key_nct(edition, k) for k in data}
    for f in extra_files:
        name = f"user:{Path(f).name}"
        if name in lists:
            raise CTOpenError(f"two exclusion files are named {Path(f).name}; rename one so the lists stay apart")
        lists[name] = read_id_file(f)
    return lists, skipped


SHIPPED_LISTS = "ct_open"  # deepimagine_data/data/ct_open/<edition>_nct_ids.txt (ids only; see PROVENANCE.md)


def shipped_ids(edition: str) -> set[str]:
    """The NCT ids of a CT Open edition as shipped with the package (ids only, from the pickle at
    :data:`PINNED_COMMIT`): what a build removes from training with no network and no ``--ctopen-source``.

    >>> len(shipped_ids("winter2025")), len(shipped_ids("summer2025"))
    (314, 240)
    """
    from importlib import resources

    _file_of(edition)
    return read_id_file(resources.files("deepimagine_data") / "data" / SHIPPED_LISTS / f"{edition}_nct_ids.txt")


def shipped_source(edition: str) -> str:
    """Where the shipped list of ``edition`` comes from, for build output and cards."""
    return f"shipped id list ({REPO}@{PINNED_COMMIT[:7]} {_file_of(edition)}, ids only)"


def nct_ids(
    editions: Iterable[str] = tuple(EDITIONS),
    source: str | os.PathLike | None = None,
    *,
    missing: str = "error",
) -> set[str]:
    """All NCT ids of the given CT Open editions (the decontamination list).

    An edition that cannot be loaded raises (``missing="error"``), so an offline run never yields a silently
    short list. With ``missing="skip"`` it is left out with a :class:`UserWarning` naming it; use
    :func:`exclusion_ids` to get the skipped editions as data.
    """
    lists, skipped = exclusion_ids(editions, source, missing=missing)
    for edition, reason in skipped.items():
        warnings.warn(f"CT Open {edition} skipped: {reason}", UserWarning, stacklevel=2)
    return set().union(*lists.values())
