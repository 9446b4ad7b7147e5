"""Training data for ``deepimagine train``: find the pairs dataset, check its version, select TRL-ready columns.

Resolution of ``--dataset`` (a hub repo id such as ``deepimagine/pairs``, or a folder):

1. ``<hub-dir>/<repo id>`` exists (``--hub-dir``, default ``./hub``, where ``deepimagine build`` writes): that folder,
   offline;
2. the argument is an existing folder: that folder;
3. otherwise the Hugging Face hub: ``load_dataset(repo_id, config, revision=--revision)``.

A local folder has no git revisions, so ``--revision`` must equal the version in the card's YAML front matter
(``deepimagine: {version: 0.1.0, fingerprint: <sha256>, package_version: ...}``, as ``deepimagine build`` writes it;
``v0.1.0`` and ``0.1.0`` both match ``0.1.0``); anything else is refused rather than training on other data than
asked. The card's version and fingerprint go into the run record (``deepimagine_run.json``).

Columns handed to TRL (nothing else, so no label or metadata column leaks into the model's input):

- SFT, ``--format text`` (default): ``prompt`` and ``completion`` strings: TRL's prompt-completion type, loss on the
  completion only. ``--format messages``: the ``messages`` column split into a conversational ``prompt`` (all turns
  but the last) and ``completion`` (the assistant turn), so the model's chat template is applied and the loss is
  still on the answer only (a plain ``messages`` column would also train on the ~2,000-token prompt).
- GRPO: ``prompt`` (string, or the conversation without its answer with ``--format messages``) plus the reward's
  references ``reference_index`` (= ``answer_index``) and ``n_options`` (= ``len(options)``). TRL does not hand a
  column named ``completion`` to reward functions, hence the other names.

Traces (the ``traces`` config, verified teacher reasoning ending with the decision line) replace the template
completion of the same ``pair_id``: where a pair has a trace, its strict row is dropped and the first trace kept, so
no pair is trained twice; pairs without a trace keep the template row. Traces of pairs outside the selected
configs (e.g. of approx pairs) are trained as they are. A split ``traces`` lacks (it holds train only by default) is
taken from the other configs alone.

>>> src = resolve_source("deepimagine/pairs", hub_dir="hub", revision="v0.2.0")  # doctest: +SKIP
>>> ds, stats = sft_dataset(src, ["strict_arm"], "train", limit=16)  # doctest: +SKIP
>>> ds.column_names, stats["rows"]  # doctest: +SKIP
(['prompt', 'completion'], 16)

Cite: DeepImagine: Learning Biomedical Reasoning via Successive Counterfactual Imagining, arXiv 2604.23054.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..hub import CARD_KEY, card_stamp, split_files
from ..pairs.kinds import GRPO, SFT

SFT_CONFIGS = SFT  # the pair-kind registry (pairs/kinds.py) says what each trainer reads
TRACES_CONFIG = "traces"
GRPO_CONFIGS = GRPO
FORMATS = ("text", "messages")

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)


class TrainDataError(ValueError):
    """A dataset, config, split, column or version the training run cannot use; one line naming what and where."""


@dataclass
class DatasetSource:
    """Where the training data comes from, as recorded in ``deepimagine_run.json``."""

    dataset: str  # the --dataset argument as given
    kind: str  # "folder" or "hub"
    location: str  # absolute folder path, or the hub repo id
    revision: str | None  # --revision as given
    version: str | None  # the card's ``deepimagine.version``
    fingerprint: str | None  # the card's ``deepimagine.fingerprint`` (of the tables)
    card_sha256: str | None
    splits: dict[str, list[str]] = field(default_factory=dict)  # config -> splits the card declares

    @property
    def configs(self) -> list[str]:
        return list(self.splits)

    def record(self) -> dict[str, Any]:
        return asdict(self)


def parse_configs(values: Iterable[str] | str | None) -> list[str]:
    """``["strict_arm,strict_dose", "traces"]`` -> ``["strict_arm", "strict_dose", "traces"]`` (order kept, no dups)."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    out: list[str] = []
    for v in values:
        for name in str(v).split(","):
            name = name.strip()
            if name and name not in out:
                out.append(name)
    return out


def _norm_version(v: str) -> str:
    return v[1:] if v[:1] in ("v", "V") else v


def parse_card(text: str, where: str) -> tuple[dict[str, list[str]], str | None, str | None]:
    """(config -> declared splits, version, fingerprint) from a dataset card: all three from its YAML front matter."""
    m = _FRONT_MATTER.match(text)
    if not m:
        raise TrainDataError(f"{where}: README.md has no YAML front matter with `configs:`")
    try:
        meta = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as e:
        raise TrainDataError(f"{where}: README.md front matter is not valid YAML: {str(e).splitlines()[0]}") from None
    configs = meta.get("configs") if isinstance(meta, dict) else None
    if not isinstance(configs, list) or not configs:
        raise TrainDataError(f"{where}: README.md declares no `configs:`")
    splits: dict[str, list[str]] = {}
    for cfg in configs:
        if not isinstance(cfg, dict) or not isinstance(cfg.get("config_name"), str):
            raise TrainDataError(f"{where}: README.md has a config without config_name: {cfg!r}")
        files = cfg.get("data_files")
        items = files if isinstance(files, list) else [files] if files else []
        splits[cfg["config_name"]] = [it["split"] for it in items if isinstance(it, dict) and "split" in it]
    try:
        block = card_stamp(meta)
    except ValueError as e:
        raise TrainDataError(f"{where}: README.md {e}") from None
    version, fingerprint = block.get("version"), block.get("fingerprint")
    return splits, None if version is None else str(version), None if fingerprint is None else str(fingerprint)


def _check_version(where: str, revision: str | None, version: str | None, *, hub: bool) -> None:
    if revision is None:
        return
    if hub and not re.match(r"^[vV]?\d+(\.\d+)*", revision):
        return  # a branch or commit on the hub: the hub resolves it, the card just records what it held
    if version is None:
        raise TrainDataError(
            f"{where}: --revision {revision} asked, but the card states no version (no `{CARD_KEY}.version` in its "
            "YAML front matter; rebuild it with `deepimagine build`)"
        )
    if _norm_version(revision) != _norm_version(version):
        raise TrainDataError(
            f"{where}: --revision {revision} asked, but the card says Version {version}: refusing to train on "
            f"another version (pass --revision v{_norm_version(version)} or point --dataset at the right build)"
        )


def _folder_source(dataset: str, folder: Path, revision: str | None) -> DatasetSource:
    readme = folder / "README.md"
    where = f"dataset {dataset} ({folder})"
    if not readme.is_file():
        raise TrainDataError(f"{where}: no README.md (a hub-layout folder as `deepimagine build` writes it)")
    data = readme.read_bytes()
    splits, version, fingerprint = parse_card(data.decode("utf-8"), where)
    if revision is not None and not re.match(r"^[vV]?\d", revision):
        raise TrainDataError(
            f"{where}: --revision {revision} names a git revision, but a local folder has none; pass the card's "
            f"version ({'v' + version if version else 'none stated'}) or leave --revision out"
        )
    _check_version(where, revision, version, hub=False)
    return DatasetSource(
        dataset,
        "folder",
        str(folder.resolve()),
        revision,
        version,
        fingerprint,
        hashlib.sha256(data).hexdigest(),
        splits,
    )


def _hub_source(repo_id: str, revision: str | None) -> DatasetSource:
    from ..hub import fetch_dataset

    where = f"dataset {repo_id} on the hub (revision {revision or 'main'})"
    try:
        path = fetch_dataset(repo_id, revision, patterns=[]) / "README.md"
    except Exception as e:  # offline, missing repo, missing revision: one line, the hub's own reason
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise TrainDataError(
            f"{where}: cannot read its card ({type(e).__name__}: {msg}); no local folder of that name either "
            "(looked in --hub-dir and the current directory)"
        ) from None
    data = Path(path).read_bytes()
    splits, version, fingerprint = parse_card(data.decode("utf-8"), where)
    _check_version(where, revision, version, hub=True)
    return DatasetSource(
        repo_id, "hub", repo_id, revision, version, fingerprint, hashlib.sha256(data).hexdigest(), splits
    )


def resolve_source(
    dataset: str, hub_dir: str | os.PathLike | None = "hub", revision: str | None = None
) -> DatasetSource:
    """Find ``dataset`` (see the module docstring for the order) and check ``revision`` against its card."""
    if hub_dir is not None and not Path(dataset).is_absolute():
        local = Path(hub_dir) / dataset
        if local.is_dir():
            return _folder_source(dataset, local, revision)
    if Path(dataset).is_dir():
        return _folder_source(dataset, Path(dataset), revision)
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$", dataset):
        raise TrainDataError(
            f"dataset {dataset}: not a folder (also not under --hub-dir {hub_dir}) and not a hub repo id (ORG/NAME)"
        )
    return _hub_source(dataset, revision)


def default_configs(source: DatasetSource, mode: str) -> list[str]:
    """SFT: the strict configs, plus ``traces`` when the card has it; GRPO: ``approx``."""
    if mode == "sft":
        return [*SFT_CONFIGS, *([TRACES_CONFIG] if TRACES_CONFIG in source.splits else [])]
    if mode == "grpo":
        return list(GRPO_CONFIGS)
    raise ValueError(f"mode must be sft or grpo, got {mode!r}")


def load_split(source: DatasetSource, config: str, split: str) -> Any:
    """One config's split as a ``datasets.Dataset``; a clear error when the card lacks the config or split."""
    from datasets import load_dataset

    where = f"dataset {source.dataset}"
    if config not in source.splits:
        raise TrainDataError(
            f"{where}: config {config!r} not in its card (configs: {', '.join(source.configs) or 'none'})"
        )
    declared = source.splits[config]
    if declared and split not in declared:
        raise TrainDataError(f"{where}, config {config}: no split {split!r} (splits: {', '.join(declared)})")
    try:
        if source.kind == "folder":
            # The folder form, load_dataset(folder, config), caches by the folder's path only: a rebuild into the
            # same folder would load the previous build's rows from datasets' cache (datasets issue #2956). Named
            # files are cached by their modification times, so a rebuild is read afresh.
            files = [str(f) for f in split_files(source.location, config, split)]
            if not files:
                raise FileNotFoundError(f"no {config}/{split}-*.parquet in {source.location}")
            return load_dataset("parquet", data_files={split: files}, split=split)
        return load_dataset(source.location, config, split=split, revision=source.revision)
    except (ValueError, FileNotFoundError) as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise TrainDataError(f"{where}, config {config}, split {split}: cannot load ({msg})") from None


def _require(ds, source: DatasetSource, config: str, split: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in ds.column_names]
    if missing:
        raise TrainDataError(
            f"dataset {source.dataset}, config {config}, split {split}: missing field(s) {', '.join(missing)} "
            f"(has {', '.join(ds.column_names[:12])}{', ...' if len(ds.column_names) > 12 else ''})"
        )


def _bad(source: DatasetSource, config: str, split: str, row: dict, fieldname: str, why: str) -> TrainDataError:
    rid = row.get("pair_id") or row.get("pathway_id") or "?"
    return TrainDataError(f"dataset {source.dataset}, config {config}, split {split}, {rid}: field {fieldname}: {why}")


def _split_messages(source: DatasetSource, config: str, split: str, row: dict) -> tuple[list[dict], list[dict]]:
    msgs = row.get("messages")
    if not isinstance(msgs, list) or len(msgs) < 2:
        raise _bad(source, config, split, row, "messages", "needs at least a user turn and an assistant turn")
    if not isinstance(msgs[-1], dict) or msgs[-1].get("role") != "assistant":
        raise _bad(source, config, split, row, "messages", "the last turn is not the assistant's answer")
    clean = [{"role": m["role"], "content": m["content"]} for m in msgs]
    return clean[:-1], clean[-1:]


def sft_dataset(
    source: DatasetSource,
    configs: Sequence[str],
    split: str = "train",
    fmt: str = "text",
    limit: int | None = None,
    targets: str | None = None,
) -> tuple[Any, dict[str, Any]]:
    """The SFT rows (``prompt``/``completion``) of ``configs``, traces replacing template rows of the same pair.

    ``targets`` (``smooth:EPS`` / ``onehot``) re-renders the decision line of the template completions from each
    row's ``options`` and ``answer_index``; ``None`` trains them as built (the rule in their ``target_rule``
    column). A trace keeps the teacher's own probabilities either way.

    Returns ``(datasets.Dataset, stats)``; ``stats`` has per-config rows, the rows a trace replaced, the total and
    ``target_rules`` (rule -> template rows trained with it).
    """
    from collections import Counter

    from datasets import Dataset

    from ..pairs.render import TargetRule, retarget

    if fmt not in FORMATS:
        raise TrainDataError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    try:
        rule = TargetRule.parse(targets) if targets is not None else None
    except ValueError as e:
        raise TrainDataError(f"--targets: {e}") from None
    need = ["pair_id", "prompt", "completion"] if fmt == "text" else ["pair_id", "messages"]
    loaded: dict[str, Any] = {}
    skipped: list[str] = []
    for cfg in configs:
        declared = source.splits.get(cfg)
        if cfg == TRACES_CONFIG and declared and split not in declared:
            # `deepimagine traces` writes a split only where a trace was kept (by default train only)
            skipped.append(cfg)
            continue
        ds = load_split(source, cfg, split)
        cols = list(need)
        if cfg != TRACES_CONFIG:
            if rule is not None:
                cols += ["options", "answer_index"]
            elif "target_rule" in ds.column_names:
                cols.append("target_rule")
        _require(ds, source, cfg, split, cols)
        loaded[cfg] = ds.select_columns(cols)
    traced: set[str] = set()
    duplicate_traces = 0
    if TRACES_CONFIG in loaded:
        kept = []
        for i, pid in enumerate(loaded[TRACES_CONFIG]["pair_id"]):
            if pid in traced:
                duplicate_traces += 1  # a second verified trace of one pair would train it twice
            else:
                traced.add(pid)
                kept.append(i)
        loaded[TRACES_CONFIG] = loaded[TRACES_CONFIG].select(kept)
    prompts: list[Any] = []
    completions: list[Any] = []
    stats: dict[str, Any] = {
        "configs": {},
        "replaced_by_trace": 0,
        "duplicate_traces_dropped": duplicate_traces,
        "configs_without_split": skipped,
    }
    rules: list[str | None] = []  # per row: the rule of a template completion, None for a trace
    for cfg, ds in loaded.items():
        n_cfg = 0
        for row in ds:
            if cfg != TRACES_CONFIG and row["pair_id"] in traced:
                stats["replaced_by_trace"] += 1
                continue
            if fmt == "text":
                for col in ("prompt", "completion"):
                    if not isinstance(row[col], str) or not row[col].strip():
                        raise _bad(source, cfg, split, row, col, "empty or not a string")
                p, c = row["prompt"], row["completion"]
            else:
                p, c = _split_messages(source, cfg, split, row)
            if cfg != TRACES_CONFIG:
                if rule is not None:
                    n, ans = len(row["options"]), row["answer_index"]
                    if fmt == "text":
                        c = retarget(c, n, ans, rule)
                    else:
                        c = [{**c[-1], "content": retarget(c[-1]["content"], n, ans, rule)}]
                    rules.append(rule.name)
                else:
                    # datasets before 0.3.0 have no target_rule column: their completions are one-hot
                    rules.append(row.get("target_rule") or "onehot (built before target_rule)")
            else:
                rules.append(None)
            prompts.append(p)
            completions.append(c)
            n_cfg += 1
        stats["configs"][cfg] = {"loaded": ds.num_rows, "used": n_cfg}
    stats["available"] = len(prompts)
    if limit is not None:
        prompts, completions, rules = prompts[:limit], completions[:limit], rules[:limit]
    stats["target_rules"] = dict(Counter(r for r in rules if r is not None))
    stats["rows"] = len(prompts)
    if not prompts:
        raise TrainDataError(f"dataset {source.dataset}, configs {', '.join(configs)}, split {split}: no rows")
    return Dataset.from_dict({"prompt": prompts, "completion": completions}), stats


def grpo_dataset(
    source: DatasetSource,
    configs: Sequence[str],
    split: str = "train",
    fmt: str = "text",
    limit: int | None = None,
) -> tuple[Any, dict[str, Any]]:
    """The GRPO rows: ``prompt``, ``reference_index`` (the known answer) and ``n_options``; ``(Dataset, stats)``."""
    from datasets import Dataset

    if fmt not in FORMATS:
        raise TrainDataError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    need = ["prompt", "options", "answer_index"] if fmt == "text" else ["messages", "options", "answer_index"]
    cols: dict[str, list] = {"prompt": [], "reference_index": [], "n_options": []}
    stats: dict[str, Any] = {"configs": {}}
    for cfg in configs:
        ds = load_split(source, cfg, split)
        _require(ds, source, cfg, split, need)
        ids = [c for c in ("pair_id", "pathway_id") if c in ds.column_names][:1]
        for row in ds.select_columns([*need, *ids]):
            options, answer = row["options"], row["answer_index"]
            if not isinstance(options, list) or len(options) < 2:
                raise _bad(source, cfg, split, row, "options", "needs at least two options")
            if not isinstance(answer, int) or not 0 <= answer < len(options):
                raise _bad(source, cfg, split, row, "answer_index", f"{answer!r} is not an index into the options")
            if fmt == "text":
                if not isinstance(row["prompt"], str) or not row["prompt"].strip():
                    raise _bad(source, cfg, split, row, "prompt", "empty or not a string")
                prompt = row["prompt"]
            else:
                prompt, _ = _split_messages(source, cfg, split, row)
            cols["prompt"].append(prompt)
            cols["reference_index"].append(answer)
            cols["n_options"].append(len(options))
        stats["configs"][cfg] = {"loaded": ds.num_rows}
    stats["available"] = len(cols["prompt"])
    if limit is not None:
        cols = {k: v[:limit] for k, v in cols.items()}
    stats["rows"] = len(cols["prompt"])
    if not cols["prompt"]:
        raise TrainDataError(f"dataset {source.dataset}, configs {', '.join(configs)}, split {split}: no rows")
    return Dataset.from_dict(cols), stats
