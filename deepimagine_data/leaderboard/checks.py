"""The strict checks of a submission: the submitter's metadata, every decision, every run.

``deepimagine submit`` checks more strictly than ``deepimagine score`` (which counts an unreadable decision wrong and
goes on): every question answered exactly once, every decision readable by CT Open's own reading with one finite,
non-negative probability per option summing to more than 0, no unknown key, and the model's name, revision and
training cutoff present and well formed.
"""

from __future__ import annotations

import datetime as dt
import math
import os

from ..scoring.decision import DecisionError, ctopen_literal, ctopen_probabilities
from ..scoring.metrics import Scored
from ..scoring.questions import EDITIONS, Question
from ..scoring.submission import SubmissionError, check, read_predictions, scored
from .schema import _CONTROL, _ISO_DATE, BENCH_EDITION, MAX_NAME, MAX_NOTES, LeaderboardError, Metadata


def _text_field(value: object, field: str, option: str, limit: int, *, multiline: bool = False) -> str:
    if value is None:
        raise LeaderboardError(f"{field} is missing (give {option})")
    if not isinstance(value, str):
        raise LeaderboardError(f"{field} must be text, got {type(value).__name__}")
    text = value.strip()
    if not text and not multiline:
        raise LeaderboardError(f"{field} is empty (give {option})")
    if len(text) > limit:
        raise LeaderboardError(f"{field} is {len(text)} characters long; at most {limit}")
    bad = _CONTROL.search(text.replace("\n", "").replace("\t", "") if multiline else text)
    if bad:
        raise LeaderboardError(f"{field} {text[:60]!r} holds a control character ({bad.group(0)!r})")
    return text


def parse_date(value: object, field: str = "training_cutoff") -> dt.date:
    """A strict ISO calendar date ``YYYY-MM-DD``.

    >>> parse_date("2024-06-30")
    datetime.date(2024, 6, 30)
    """
    if value is None:
        raise LeaderboardError(f"{field} is missing (give --training-cutoff YYYY-MM-DD)")
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    text = str(value).strip()
    if not _ISO_DATE.fullmatch(text):
        raise LeaderboardError(f"{field} {text[:40]!r} is not an ISO date YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text)
    except ValueError as e:
        raise LeaderboardError(f"{field} {text!r} is not a calendar date ({e})") from None


def submission_time(value: str | dt.datetime | None = None) -> dt.datetime:
    """When the submission is recorded (UTC): ``value``, else ``$SOURCE_DATE_EPOCH``, else now.

    ``SOURCE_DATE_EPOCH`` (reproducible-builds convention) makes stores written in tests and CI byte-identical.

    >>> submission_time("2025-06-01T12:00:00Z")
    datetime.datetime(2025, 6, 1, 12, 0, tzinfo=datetime.timezone.utc)
    """
    if isinstance(value, dt.datetime):
        t = value
    elif value is not None:
        try:
            t = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise LeaderboardError(f"submitted_at {value[:40]!r} is not an ISO timestamp") from None
    elif os.environ.get("SOURCE_DATE_EPOCH"):
        raw = os.environ["SOURCE_DATE_EPOCH"]
        if not raw.strip().isdigit():
            raise LeaderboardError(f"$SOURCE_DATE_EPOCH {raw[:40]!r} is not a number of seconds")
        t = dt.datetime.fromtimestamp(int(raw), dt.timezone.utc)
    else:
        t = dt.datetime.now(dt.timezone.utc)
    # a timestamp without an offset is read as UTC, the store's zone
    return t.replace(tzinfo=dt.timezone.utc) if t.tzinfo is None else t.astimezone(dt.timezone.utc)


def check_metadata(
    *,
    model_name: object,
    model_revision: object,
    training_cutoff: object,
    benchmark: str,
    edition: str | None,
    notes: object = "",
    submitted_at: str | dt.datetime | None = None,
) -> Metadata:
    """Check what the submitter states; raise :class:`LeaderboardError` naming the first missing or bad field.

    >>> check_metadata(model_name="m", model_revision="r1", training_cutoff="2024-13-01", benchmark="ctopen",
    ...                edition="winter2025")
    Traceback (most recent call last):
    ...
    deepimagine_data.leaderboard.LeaderboardError: training_cutoff '2024-13-01' is not a calendar date (month must be in 1..12)
    """  # noqa: E501 - a doctest's expected line cannot wrap
    name = _text_field(model_name, "model_name", "--model-name", MAX_NAME)
    revision = _text_field(model_revision, "model_revision", "--model-revision", MAX_NAME)
    cutoff = parse_date(training_cutoff)
    if benchmark == "ctopen":
        if edition not in EDITIONS:
            raise LeaderboardError(f"edition {edition!r}: ctopen needs --edition {' or '.join(EDITIONS)}")
    elif benchmark == "deepimagine":
        if edition not in (None, BENCH_EDITION):
            raise LeaderboardError(f"edition {edition!r}: the deepimagine bench has no editions (leave out --edition)")
        edition = BENCH_EDITION
    else:
        raise LeaderboardError(f"benchmark {benchmark!r} is not one of ctopen, deepimagine")
    text = _text_field("" if notes is None else notes, "notes", "--notes", MAX_NOTES, multiline=True)
    when = submission_time(submitted_at)
    if cutoff > when.date():
        raise LeaderboardError(f"training_cutoff {cutoff} is after the submission time {when:%Y-%m-%d}")
    return Metadata(name, revision, cutoff, benchmark, edition, text, when)


def _key_text(key: tuple) -> str:
    return f"({key[0]}, {str(key[1])[:60]!r}, {key[2]})"


def _decision_line(output: str) -> str:
    """The text a reader of the message needs to find the bad decision: its DECISION line, else the output's start."""
    lines = [ln.strip() for ln in output.splitlines() if "DECISION" in ln.upper()]
    return (lines[-1] if lines else output.strip())[:100]


def check_decision(output: str, n_options: int) -> tuple[float, ...]:
    """The stated probabilities of one output, refused unless the leaderboard can take them as given.

    CT Open's reading (:func:`ctopen_probabilities`) must accept it, and its literal must be exactly ``n_options``
    real numbers, each finite and non-negative, summing to more than 0: CT Open's reading would quietly clip a
    negative value or read ``("0.2", "0.8")``, which a leaderboard should not pass off as a forecast.

    >>> check_decision("Reasoning ...\\nDECISION: (0.3, 0.7)", 2)
    (0.3, 0.7)
    >>> check_decision("DECISION: (0.3, 0.7)", 3)
    Traceback (most recent call last):
    ...
    deepimagine_data.scoring.decision.DecisionError: 2 probabilities for 3 options
    """
    ctopen_probabilities(output)  # CT Open's own refusals first, with its reasons
    values = tuple(ctopen_literal(output)[1])  # the literal CT Open's reading evaluates
    if len(values) != n_options:
        raise DecisionError(f"{len(values)} probabilities for {n_options} options")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise DecisionError(f"{v!r:.30} is not a number")
        if not math.isfinite(v):
            raise DecisionError(f"{v!r} is not finite")
        if v < 0:
            raise DecisionError(f"{v!r} is negative")
    if sum(values) <= 0:
        raise DecisionError("the probabilities sum to 0")
    return tuple(float(v) for v in values)


def check_run(questions: list[Question], path: str | os.PathLike) -> list[Scored]:
    """Read one run and refuse it unless every question is answered once with a valid decision; its scored items."""
    try:
        checked = check(questions, read_predictions(path))
    except SubmissionError as e:
        raise LeaderboardError(str(e)) from None
    bad = []
    for q in questions:
        out = checked.outputs[q.key]
        try:
            check_decision(out, q.n_options)
        except DecisionError as e:
            bad.append(f"{_key_text(q.key)}: {_decision_line(out)!r} ({e})")
    if bad:
        more = f" (and {len(bad) - 3} more)" if len(bad) > 3 else ""
        raise LeaderboardError(f"{path}: {len(bad)} invalid decision(s): " + "; ".join(bad[:3]) + more)
    items, unreadable = scored(questions, checked)
    if unreadable:  # cannot happen after the checks above; a scorer change that reads less must not slip through
        raise LeaderboardError(f"{path}: the scorer cannot read {_key_text(unreadable[0][0])}: {unreadable[0][1]}")
    return items
