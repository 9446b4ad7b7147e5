"""Rejection-sampled teacher traces for pair rows: read pairs, ask (or read the cache), verify, tally, build rows.

>>> body = request_body("teacher", [{"role": "user", "content": "hi"}], Sampling(seed=7), try_index=2)
>>> body["seed"], body["n"]
(9, 1)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import RecordError
from ..hub import split_files
from ..pairs.factors import changed_factors_of
from . import verify
from .cache import ResponseCache, request_key
from .client import ChatClient, FatalHTTPError, TeacherHTTPError
from .prompt import TEMPLATE_VERSION, teacher_messages, templates

DATASET = "deepimagine/pairs"
CONFIG = "traces"
ID_COLUMNS = ("pair_id", "pathway_id")  # pathways rows are keyed by pathway_id; traces call every key pair_id
LABEL_COLUMNS = ("significance", "benefit", "decision3", "p_value", "p_value_modifier", "alpha")
_READ_COLUMNS = (
    *ID_COLUMNS,
    "kind",
    "changed_factor",
    "changed_factors",
    "nct_id",
    "trial_id",
    "question_type",
    "prompt",
    "options",
    "answer_index",
    *LABEL_COLUMNS,
    "template_version",
    "template_sha256",
)

S = pa.string()
# One row per verified trace. `prompt`/`completion` (TRL prompt-completion) and `messages` (TRL conversational) carry
# the pair's own prompt and the teacher's trace, so SFT reads traces exactly as it reads pairs.
TRACES = pa.schema(
    [
        ("pair_id", S),
        ("source_config", S),
        ("kind", S),
        ("changed_factors", pa.list_(S)),
        ("nct_id", S),
        ("trial_id", S),
        ("question_type", S),
        ("prompt", S),
        ("options", pa.list_(S)),
        ("answer_index", pa.int64()),
        ("significance", S),
        ("benefit", S),
        ("decision3", S),
        ("p_value", pa.float64()),
        ("p_value_modifier", S),
        ("alpha", pa.float64()),
        ("trace", S),
        ("completion", S),
        ("messages", pa.list_(pa.struct([("role", S), ("content", S)]))),
        ("decision_probabilities", pa.list_(pa.float64())),
        ("tries_used", pa.int64()),
        ("teacher_model", S),
        ("teacher_model_revision", S),
        ("template_version", S),
        ("template_sha256", S),
        ("pair_template_version", S),
        ("pair_template_sha256", S),
        ("temperature", pa.float64()),
        ("top_p", pa.float64()),
        ("max_tokens", pa.int64()),
        ("seed", pa.int64()),
        ("generated_at", pa.date32()),
        ("prompt_tokens", pa.int64()),
        ("completion_tokens", pa.int64()),
    ]
)


@dataclass(frozen=True)
class Sampling:
    """Sampling parameters sent with every request; try ``k`` of a pair is sent with ``seed + k``."""

    temperature: float = 0.7
    top_p: float = 1.0
    max_tokens: int = 1024
    seed: int = 0
    tries: int = 4


@dataclass(frozen=True)
class PairTask:
    pair_id: str
    config: str
    split: str
    row: dict
    changed_factors: tuple[str, ...]
    n_options: int
    answer_index: int


@dataclass
class Sample:
    try_index: int
    verdict: verify.Verdict
    record: dict | None  # the cache record (None for an HTTP failure)
    from_cache: bool
    error: str = ""

    @property
    def reason(self) -> str:
        return self.verdict.reason or verify.KEPT


@dataclass
class PairResult:
    task: PairTask
    samples: list[Sample] = field(default_factory=list)

    @property
    def kept(self) -> Sample | None:
        last = self.samples[-1] if self.samples else None
        return last if last is not None and last.verdict.keep else None

    @property
    def http_failed(self) -> bool:
        return bool(self.samples) and self.samples[-1].reason == verify.HTTP_ERROR


def request_body(model: str, messages: list[dict], sampling: Sampling, try_index: int) -> dict:
    """The JSON body of one chat-completions request (what the cache key hashes)."""
    return {
        "model": model,
        "messages": messages,
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "max_tokens": sampling.max_tokens,
        "seed": sampling.seed + try_index,
        "n": 1,
    }


def _hash_order(pair_id: str) -> str:
    return hashlib.sha256(pair_id.encode("utf-8")).hexdigest()


def dataset_folder(hub_dir: str | Path) -> Path:
    return Path(hub_dir) / DATASET


def read_pairs(
    folder: str | Path, configs: Sequence[str], splits: Sequence[str], limit: int | None = None
) -> list[PairTask]:
    """The pair rows to trace, checked; with ``limit``, a fixed hash sample of N rows per config and split.

    A hash sample (the N smallest sha256 of the pair id) rather than the first N: ids sort by NCT number, so the first
    N would all come from a few old trials. Raises :class:`RecordError` naming the config, split or row and field.
    """
    folder = Path(folder)
    if not (folder / "README.md").is_file():
        raise FileNotFoundError(f"no pairs dataset at {folder} (build it first: deepimagine build --out <hub-dir>)")
    present = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    tasks: list[PairTask] = []
    for cfg in configs:
        if cfg == CONFIG:
            raise RecordError(DATASET, "config", "traces are made from pair configs, not from the traces config")
        if not (folder / cfg).is_dir():
            raise RecordError(DATASET, "config", f"no config {cfg!r} in {folder} (present: {', '.join(present)})")
        for split in splits:
            files = split_files(folder, cfg, split)
            where = f"{DATASET}/{cfg}/{split}"
            if not files:
                have = sorted({p.name.split("-")[0] for p in (folder / cfg).glob("*.parquet")})
                raise RecordError(f"{DATASET}/{cfg}", "split", f"no split {split!r} (present: {', '.join(have)})")
            names = pq.read_schema(files[0]).names
            id_col = next((c for c in ID_COLUMNS if c in names), None)
            for col in ("prompt", "options", "answer_index", *([] if id_col else ["pair_id"])):
                if col not in names:
                    raise RecordError(where, col, "column missing")
            cols = [c for c in _READ_COLUMNS if c in names]
            table = pa.concat_tables([pq.read_table(f, columns=cols) for f in files])
            rows = table.to_pylist()
            if limit is not None:
                rows = sorted(rows, key=lambda r: _hash_order(str(r.get(id_col))))[:limit]
            for i, r in enumerate(rows):
                tasks.append(_task(r, cfg, split, id_col, f"{where} row {i}"))
    seen: dict[tuple[str, str], str] = {}
    for t in tasks:
        prev = seen.setdefault((t.split, t.pair_id), t.config)
        if prev != t.config:
            raise RecordError(t.pair_id, "pair_id", f"in both {prev!r} and {t.config!r} ({t.split})")
    return sorted(tasks, key=lambda t: (t.split, t.pair_id, t.config))


def _task(r: dict, cfg: str, split: str, id_col: str, where: str) -> PairTask:
    pid = r.get(id_col)
    if not isinstance(pid, str) or not pid:
        raise RecordError(where, id_col, "missing")
    prompt = r.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise RecordError(pid, "prompt", "missing or empty")
    opts = r.get("options")
    if not isinstance(opts, list) or len(opts) < 2 or not all(isinstance(o, str) and o for o in opts):
        raise RecordError(pid, "options", f"need a list of at least 2 option texts, got {opts!r}")
    ans = r.get("answer_index")
    if not isinstance(ans, int):
        raise RecordError(pid, "answer_index", "missing (a trace is verified against the known answer)")
    if not 0 <= ans < len(opts):
        raise RecordError(pid, "answer_index", f"{ans} is not an index of the {len(opts)} options")
    return PairTask(pid, cfg, split, r, changed_factors_of(r), len(opts), ans)


class Generator:
    """Runs pairs through cache-or-teacher and the verifier; one pair's tries run in order, pairs run in parallel."""

    def __init__(
        self,
        client: ChatClient,
        cache: ResponseCache,
        model: str,
        sampling: Sampling,
        *,
        model_revision: str | None = None,
        endpoint_host: str = "",
    ):
        self.client, self.cache, self.model, self.sampling = client, cache, model, sampling
        self.model_revision = model_revision
        self.endpoint_host = endpoint_host
        self.cache_hits = 0
        self._lock = threading.Lock()
        self._revision_lock = threading.Lock()  # its own lock: the lookup may wait on retries
        self._revision_known = model_revision is not None

    def _revision(self) -> str | None:
        # Asked once, and only when something must be sent: a rerun over a full cache stays at zero requests.
        with self._revision_lock:
            if not self._revision_known:
                self.model_revision = self.client.model_root(self.model)
                self._revision_known = True
            return self.model_revision

    def run_pair(self, task: PairTask) -> PairResult:
        result = PairResult(task)
        messages = teacher_messages(task.row["prompt"], list(task.changed_factors), task.n_options)
        for k in range(self.sampling.tries):
            body = request_body(self.model, messages, self.sampling, k)
            key = request_key(body, k)
            rec = self.cache.get(task.pair_id, key)
            from_cache = rec is not None
            if rec is None:
                revision = self._revision()
                try:
                    resp = self.client.chat(body)
                except FatalHTTPError:
                    self.client.stop.set()  # here, not in the main thread: this worker must not start another pair
                    raise
                except TeacherHTTPError as e:
                    result.samples.append(Sample(k, verify.Verdict(verify.HTTP_ERROR), None, False, str(e)))
                    # Retries are spent: further tries of this pair would hit the same outage. A rerun resumes here.
                    return result
                rec = self.cache.put(self._record(task, key, k, resp, revision))
            else:
                with self._lock:
                    self.cache_hits += 1
            verdict = verify.judge(content_of(rec), task.n_options, task.answer_index)
            result.samples.append(Sample(k, verdict, rec, from_cache))
            if verdict.keep:
                break
        return result

    def _record(self, task: PairTask, key: str, k: int, resp: dict, revision: str | None) -> dict:
        created = resp.get("created")
        if not isinstance(created, int | float):
            # Some servers omit it; the receipt time, stored once, keeps reruns identical.
            created = int(dt.datetime.now(dt.timezone.utc).timestamp())
        usage = resp.get("usage") if isinstance(resp.get("usage"), dict) else {}
        return {
            "pair_id": task.pair_id,
            "key": key,
            "try": k,
            "model": self.model,
            "endpoint_host": self.endpoint_host,
            "model_revision": revision,
            "created": int(created),
            "usage": {
                "prompt_tokens": int(usage.get("prompt_tokens") or 0),
                "completion_tokens": int(usage.get("completion_tokens") or 0),
            },
            "response": resp,
        }

    def run(
        self,
        tasks: Sequence[PairTask],
        concurrency: int = 4,
        progress: bool = True,
        on_result: Callable[[PairResult], None] | None = None,
    ) -> list[PairResult]:
        """Every task's result, in task order. A :class:`FatalHTTPError` stops all workers and propagates."""
        from tqdm.auto import tqdm

        results: dict[int, PairResult] = {}
        kept = rejected = 0
        with (
            ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="trace") as ex,
            tqdm(total=len(tasks), unit="pair", desc="traces", disable=not progress) as bar,
        ):
            futures = {ex.submit(self.run_pair, t): i for i, t in enumerate(tasks)}
            try:
                for f in as_completed(futures):
                    r = f.result()
                    results[futures[f]] = r
                    kept += r.kept is not None
                    rejected += sum(1 for s in r.samples if not s.verdict.keep)
                    bar.update(1)
                    bar.set_postfix(kept=kept, rejected_samples=rejected, refresh=False)
                    if on_result is not None:
                        on_result(r)
            except BaseException:
                self.client.stop.set()  # workers stop before their next request; queued pairs are cancelled
                for f in futures:
                    f.cancel()
                raise
        return [results[i] for i in range(len(tasks))]


def content_of(record: dict) -> str:
    """The assistant text of a cached response ("" when the server sent none)."""
    msg = record["response"]["choices"][0].get("message") or {}
    content = msg.get("content") or ""
    if isinstance(content, list):  # content parts ([{"type": "text", "text": ...}]), as some servers send
        content = "".join(p.get("text") or "" for p in content if isinstance(p, dict))
    return str(content).strip()


def attempt_rows(results: Sequence[PairResult]) -> list[dict]:
    """One row per attempt, in pair order then try order: every sample sent (kept or rejected, cached or fresh),
    what ``deepimagine analyze traces`` reads to measure how accuracy goes with the factors a teacher invokes (the
    kept traces alone are all correct by construction); and, for a pair whose request failed, that failure
    (``reason`` http_error, ``text`` null, ``cause`` what the last attempt got and ``error`` the message), which
    the analysis skips."""
    from ..http import cause_label

    def row(t, s, kept: bool, text: str | None) -> dict:
        return {
            "pair_id": t.pair_id,
            "config": t.config,
            "split": t.split,
            "changed_factors": list(t.changed_factors),
            "try_index": s.try_index,
            "reason": s.reason,
            "kept": kept,
            "text": text,
            "options": list(t.row["options"]),
            "answer_index": t.answer_index,
        }

    rows = []
    for r in results:
        t = r.task
        rows += [row(t, s, s.verdict.keep, content_of(s.record)) for s in r.samples if s.record is not None]
        if r.http_failed:
            s = r.samples[-1]
            rows.append(row(t, s, False, None) | {"cause": cause_label(s.error), "error": s.error})
    return rows


def _date(created: int) -> dt.date:
    return dt.datetime.fromtimestamp(created, dt.timezone.utc).date()


def build_tables(
    results: Sequence[PairResult], model: str, sampling: Sampling, model_revision: str | None = None
) -> dict[str, pa.Table]:
    """split -> table of verified traces (schema :data:`TRACES`), rows sorted by pair_id.

    Everything comes from the pair rows, the arguments and the cache records, never from the clock, so the same
    cache gives the same bytes.
    """
    _, _, sha = templates(TEMPLATE_VERSION)
    by_split: dict[str, list[dict]] = {}
    for r in results:
        by_split.setdefault(r.task.split, [])
        s = r.kept
        if s is None:
            continue
        t, rec = r.task, s.record
        row = t.row
        trace = content_of(rec)
        by_split[t.split].append(
            {
                "pair_id": t.pair_id,
                "source_config": t.config,
                "kind": row.get("kind"),
                "changed_factors": list(t.changed_factors),
                "nct_id": row.get("nct_id"),
                "trial_id": row.get("trial_id"),
                "question_type": row.get("question_type"),
                "prompt": row["prompt"],
                "options": row["options"],
                "answer_index": t.answer_index,
                **{c: row.get(c) for c in LABEL_COLUMNS},
                "trace": trace,
                "completion": trace,
                "messages": [{"role": "user", "content": row["prompt"]}, {"role": "assistant", "content": trace}],
                "decision_probabilities": list(s.verdict.probabilities),
                "tries_used": s.try_index + 1,
                "teacher_model": model,
                "teacher_model_revision": model_revision or rec.get("model_revision") or "unknown",
                "template_version": TEMPLATE_VERSION,
                "template_sha256": sha,
                "pair_template_version": row.get("template_version"),
                "pair_template_sha256": row.get("template_sha256"),
                "temperature": float(sampling.temperature),
                "top_p": float(sampling.top_p),
                "max_tokens": int(sampling.max_tokens),
                "seed": int(sampling.seed),
                "generated_at": _date(rec["created"]),
                "prompt_tokens": rec["usage"]["prompt_tokens"],
                "completion_tokens": rec["usage"]["completion_tokens"],
            }
        )
    out = {}
    for split, rows in by_split.items():
        rows.sort(key=lambda x: x["pair_id"])
        out[split] = pa.Table.from_pylist(rows, schema=TRACES)
    return out


@dataclass
class Tally:
    """Counts for the summary table and the card: pairs and samples per (config, split), reasons, tokens, dates."""

    pairs: Counter = field(default_factory=Counter)
    kept: Counter = field(default_factory=Counter)
    http_failed: Counter = field(default_factory=Counter)
    samples: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    first: dt.date | None = None
    last: dt.date | None = None
    revisions: set[str] = field(default_factory=set)
    hosts: set[str] = field(default_factory=set)

    @property
    def n_rejected(self) -> int:
        return sum(self.reasons.values())

    def cost(self, price_in: float | None, price_out: float | None) -> float | None:
        if price_in is None and price_out is None:
            return None
        return (self.prompt_tokens * (price_in or 0.0) + self.completion_tokens * (price_out or 0.0)) / 1e6


def tally(results: Sequence[PairResult]) -> Tally:
    """Count outcomes over every sample of every pair (cached or not): what the output rests on."""
    t = Tally()
    for r in results:
        key = (r.task.config, r.task.split)
        t.pairs[key] += 1
        t.kept[key] += r.kept is not None
        t.http_failed[key] += r.http_failed
        for s in r.samples:
            t.samples[key] += 1
            if not s.verdict.keep:
                t.reasons[s.reason] += 1
                t.examples.setdefault(s.reason, f"{r.task.pair_id}: {s.error or s.verdict.detail}")
            if s.record is not None:
                rec = s.record
                t.prompt_tokens += rec["usage"]["prompt_tokens"]
                t.completion_tokens += rec["usage"]["completion_tokens"]
                d = _date(rec["created"])
                t.first = d if t.first is None else min(t.first, d)
                t.last = d if t.last is None else max(t.last, d)
                t.revisions.add(rec.get("model_revision") or "unknown")
                if rec.get("endpoint_host"):
                    t.hosts.add(rec["endpoint_host"])
    return t
