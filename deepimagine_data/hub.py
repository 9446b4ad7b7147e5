"""Local Hugging Face hub layout: parquet shards per config and split, plus a README.md card with `configs:`.

``write_hub_dataset(root, "deepimagine/trials", {...})`` writes ``root/deepimagine/trials/`` such that, run from
``root``, ``load_dataset("deepimagine/trials", "trials")`` works offline (datasets resolves a local directory of
that name before the hub). The folder is written beside its final place and swapped into it, so a reader never
sees half a dataset; :class:`BuildTransaction` does the same for the datasets of one build together.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from .fsutil import swap_into_place, temp_dir
from .tables import (
    PARQUET_OPTIONS,
    ROW_GROUP,
    TableDigest,
    combine_digests,
    fresh_table,
    pieces_of,
)

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; builds and writers into one folder must not overlap there
    fcntl = None

# A hub dataset shard should stay well below the hub's 50 GB file limit and be quick to stream.
MAX_ROWS_PER_SHARD = 500_000

# What a writer leaves beside a final folder while it works (or when killed): ``.tmp-<name>-*`` (the folder being
# written, or after the swap the previous one being removed) and, where two paths cannot be swapped in one step,
# ``.old-<name>-<pid>``. publish._check_no_strays refuses a dataset folder with such a sibling.
STRAY_PREFIXES = (".tmp-", ".old-")


def _plain_schema(schema: pa.Schema) -> pa.Schema:
    """large_string -> string so every config declares the same feature types (polars writes large_string)."""

    def fix(t: pa.DataType) -> pa.DataType:
        if pa.types.is_large_string(t):
            return pa.string()
        if pa.types.is_large_list(t) or pa.types.is_list(t):
            return pa.list_(fix(t.value_type))
        if pa.types.is_struct(t):
            return pa.struct([pa.field(f.name, fix(f.type)) for f in t])
        return t

    return pa.schema([pa.field(f.name, fix(f.type)) for f in schema])


def _plain_strings(table: pa.Table) -> pa.Table:
    return table.cast(_plain_schema(table.schema))


def features_yaml(schema: pa.Schema) -> list[dict]:
    from datasets import Features
    from datasets.info import DatasetInfo

    info = DatasetInfo(features=Features.from_arrow_schema(schema))
    return info._to_yaml_dict()["features"]


class _Chunker:
    """Cuts a stream of tables into tables of exactly ``size`` rows (the last one shorter) for ``emit``."""

    def __init__(self, size: int, emit: Callable[[pa.Table], None]):
        self.size, self.emit = size, emit
        self.buf: list[pa.Table] = []
        self.n = 0

    def push(self, t: pa.Table) -> None:
        while t.num_rows:
            take = t.slice(0, self.size - self.n)
            self.buf.append(take)
            self.n += take.num_rows
            t = t.slice(take.num_rows)
            if self.n == self.size:
                self.close()

    def close(self) -> None:
        if self.n:
            self.emit(fresh_table(self.buf))
        self.buf, self.n = [], 0


def _write_split(folder: Path, split: str, table, schema: pa.Schema, digest: TableDigest) -> int:
    """Stream the rows of ``table`` (a ``pa.Table`` or a ``PackedTable``, unpacked piece by piece) into shards of
    :data:`MAX_ROWS_PER_SHARD` rows with row groups of :data:`ROW_GROUP` (the bytes ``write_parquet`` gives for the
    whole table), feeding ``digest`` as it goes; returns the rows' bytes in memory (the card's ``num_bytes``)."""
    n_shards = max(1, -(-table.num_rows // MAX_ROWS_PER_SHARD))
    state = {"writer": None, "shard": -1, "in_shard": 0, "nbytes": 0}

    def write_group(t: pa.Table) -> None:
        state["writer"].write_table(t, row_group_size=ROW_GROUP)

    groups = _Chunker(ROW_GROUP, write_group)

    def fingerprint_batch(t: pa.Table) -> None:
        digest.update(t)
        state["nbytes"] += t.nbytes

    batches = _Chunker(ROW_GROUP, fingerprint_batch)
    for piece in pieces_of(table):
        piece = piece.cast(schema)
        batches.push(piece)
        while piece.num_rows:
            if state["writer"] is None or state["in_shard"] == MAX_ROWS_PER_SHARD:
                if state["writer"] is not None:
                    groups.close()
                    state["writer"].close()
                state["shard"] += 1
                path = folder / f"{split}-{state['shard']:05d}-of-{n_shards:05d}.parquet"
                state["writer"] = pq.ParquetWriter(path, schema, **PARQUET_OPTIONS)
                state["in_shard"] = 0
            take = piece.slice(0, MAX_ROWS_PER_SHARD - state["in_shard"])
            groups.push(take)
            state["in_shard"] += take.num_rows
            piece = piece.slice(take.num_rows)
    batches.close()
    groups.close()
    if state["writer"] is not None:
        state["writer"].close()
    return state["nbytes"]


def _write_config(
    tmp: Path, cfg: str, splits: dict, label: str, digests: dict[str, bytes] | None = None
) -> tuple[list, list, pa.Schema | None]:
    """Write ``splits`` of ``cfg`` (split -> ``pa.Table`` or ``PackedTable``) as parquet shards under ``tmp/cfg``;
    the card's ``data_files`` and split info entries, and the config's schema (every split must share it; ``label``
    names the config in the error). ``digests`` receives ``cfg/split`` -> the rows' digest (the fingerprint)."""
    data_files, split_info, schema = [], [], None
    (tmp / cfg).mkdir(parents=True, exist_ok=True)
    for split, table in splits.items():
        plain = _plain_schema(table.schema)
        schema = schema or plain
        if plain != schema:
            raise ValueError(f"{label}: split {split!r} has a different schema")
        if table.num_rows == 0:
            # datasets cannot load an empty split ("Instruction 'train' corresponds to no data"), and one empty
            # split would make the whole config unloadable: a small build (a few trials, all posted in one
            # period) leaves it out of the card instead; the card's counts still show its 0. The fingerprint
            # covers the splits the card lists, so publish can recompute it from the folder alone.
            continue
        digest = TableDigest(plain)
        nbytes = _write_split(tmp / cfg, split, table, plain, digest)
        if digests is not None:
            digests[f"{cfg}/{split}"] = digest.digest()
        data_files.append({"split": split, "path": f"{cfg}/{split}-*.parquet"})
        split_info.append({"name": split, "num_bytes": int(nbytes), "num_examples": table.num_rows})
    return data_files, split_info, schema


class BuildError(RuntimeError):
    """A build that cannot start or finish in its output folder; the message is one line."""


def _move_into_place(tmp: Path, final: Path) -> None:
    """Put the finished ``tmp`` folder at ``final`` (:func:`~deepimagine_data.fsutil.swap_into_place`; where the
    system cannot swap in one step, through ``.old-<name>-<pid>``, which the next build puts back)."""
    swap_into_place(tmp, final, final.with_name(f".old-{final.name}-{os.getpid()}"))


def _lock_path(folder: Path) -> Path:
    """``root/.deepimagine.lock`` for ``root/deepimagine``; resolved, so a symlinked root shares its target's lock."""
    folder = Path(folder).resolve()
    return folder.with_name(f".{folder.name}.lock")


@contextlib.contextmanager
def _writing_into(folder: Path) -> Iterator[None]:
    """Held (shared) while a dataset is written into ``folder``: a build swaps the whole folder only while nobody
    holds it, so a dataset written beside the build's (a leaderboard, a ``traces`` config) is never lost."""
    if fcntl is None:
        yield
        return
    try:
        fd = os.open(_lock_path(folder), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    except OSError:  # a root the user cannot write to: no build can swap the folder there either
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


def write_hub_dataset(
    root: str | os.PathLike,
    repo_id: str,
    configs: dict[str, dict[str, pa.Table]],
    card_body: str,
    *,
    card_meta: dict | None = None,
    default_config: str | None = None,
    card: Callable[[str], tuple[str, dict]] | None = None,
) -> Path:
    """Write ``configs`` (config -> split -> ``pa.Table`` or ``PackedTable``) as ``root/<repo_id>`` with a dataset
    card.

    ``card_meta`` adds YAML front-matter keys (license, pretty_name, tags, ...). ``card``, where given, makes the
    card once the rows are written: it receives their fingerprint (:func:`~deepimagine_data.tables.
    table_fingerprint` of ``cfg/split`` -> rows) and returns (body, front-matter keys), which replace
    ``card_body`` and ``card_meta``. Returns the dataset folder.
    """
    final = Path(root) / repo_id
    final.parent.mkdir(parents=True, exist_ok=True)
    with _writing_into(final.parent):
        return _write_hub_dataset(final, repo_id, configs, card_body, card_meta, default_config, card)


def _write_hub_dataset(final: Path, repo_id: str, configs, card_body, card_meta, default_config, card) -> Path:
    tmp = temp_dir(f".tmp-{final.name}-", final.parent)
    try:
        yaml_configs, yaml_info = [], []
        digests: dict[str, bytes] = {}
        for cfg, splits in configs.items():
            data_files, split_info, schema = _write_config(tmp, cfg, splits, f"{repo_id}/{cfg}", digests)
            if not data_files:
                continue  # no row in any split: nothing datasets could load
            entry = {"config_name": cfg, "data_files": data_files}
            if cfg == (default_config or next(iter(configs))):
                entry["default"] = True
            yaml_configs.append(entry)
            yaml_info.append({"config_name": cfg, "features": features_yaml(schema), "splits": split_info})
        if card is not None:
            card_body, card_meta = card(combine_digests(digests))
        meta = dict(card_meta or {})
        meta["configs"] = yaml_configs
        meta["dataset_info"] = yaml_info
        front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000)
        (tmp / "README.md").write_text(f"---\n{front}---\n\n{card_body.strip()}\n", encoding="utf-8")
        _move_into_place(tmp, final)
        return final
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def folder_fingerprint(folder: str | os.PathLike) -> str:
    """sha256 over the relative paths and bytes of every file: equal inputs give equal fingerprints."""
    h = hashlib.sha256()
    base = Path(folder)
    for p in sorted(base.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(base)).encode())
            h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


# The Hub's size_categories, by the rows of a dataset (all configs and splits)
_SIZES = [(10**3, "n<1K"), (10**4, "1K<n<10K"), (10**5, "10K<n<100K"), (10**6, "100K<n<1M"), (10**7, "1M<n<10M"),
          (10**8, "10M<n<100M"), (10**9, "100M<n<1B")]  # fmt: skip


def size_category(rows: int) -> str:
    """The Hub's size bucket of a dataset of ``rows`` rows (all configs and splits).

    >>> size_category(26_245)
    '10K<n<100K'
    """
    return next((name for limit, name in _SIZES if rows < limit), "n>1B")


def _card_rows(dataset_info) -> int:
    infos = [dataset_info] if isinstance(dataset_info, dict) else list(dataset_info or [])
    return sum(int(s.get("num_examples") or 0) for i in infos if isinstance(i, dict) for s in i.get("splits") or [])


# The card front matter's key for what built a dataset: its version, the fingerprint of its tables and the package
# version (builder_kit.deepimagine_meta writes it; publish and train read it through card_stamp).
CARD_KEY = "deepimagine"


def card_stamp(meta: dict) -> dict:
    """The ``deepimagine:`` block of a card's front matter, ``{}`` when there is none; ``ValueError`` when it is not
    a mapping.

    >>> card_stamp({"deepimagine": {"version": "0.3.0"}}), card_stamp({})
    ({'version': '0.3.0'}, {})
    """
    block = meta.get(CARD_KEY)
    if block is None:
        return {}
    if not isinstance(block, dict):
        raise ValueError(f"front matter `{CARD_KEY}:` is not a mapping (version, fingerprint, ...)")
    return block


# --- reading: the one reader of a dataset folder (local, or a hub repo at a revision fetched into the cache) -----


_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*(@[A-Za-z0-9._/-]+)?$")


def dataset_folder(path: str | os.PathLike, name: str, revision: str | None = None) -> Path:
    """The folder of dataset ``name`` (``trials``, ``pairs``, ``bench``) from where a user points:

    - a build's ``--out`` root or the dataset folder itself: ``hub`` and ``hub/deepimagine/pairs`` both give
      ``hub/deepimagine/pairs`` for "pairs";
    - a hub repo id, with a revision as ``ORG/NAME@v0.3.0`` or ``revision=``: fetched into the huggingface_hub
      cache (:func:`fetch_dataset`) and read like a built folder. A local folder of that name wins.
    """
    p = Path(path).expanduser()
    if (p / "deepimagine" / name).is_dir():
        return p / "deepimagine" / name
    if p.name == name and p.is_dir():
        return p
    ref = str(path)
    if not p.exists() and _REPO_ID.match(ref):
        repo_id, _, rev = ref.partition("@")
        return fetch_dataset(repo_id, rev or revision)
    raise FileNotFoundError(f"{p}: no deepimagine/{name} under this folder (run `deepimagine build --out {p}`)")


def fetch_dataset(repo_id: str, revision: str | None = None, patterns: Iterable[str] | None = None) -> Path:
    """A hub dataset repo at ``revision`` (a tag such as ``v0.3.0``, a branch or a commit) as a local folder in the
    huggingface_hub cache: README.md and the files matching ``patterns`` (``None``: every file; ``[]``: the card
    only) are downloaded, then read like any built folder. Offline, only what the cache already holds can be read;
    else the error says so."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    allow = None if patterns is None else ["README.md", *patterns]
    try:
        return Path(snapshot_download(repo_id, repo_type="dataset", revision=revision, allow_patterns=allow))
    except LocalEntryNotFoundError as e:
        at = f" at {revision}" if revision else ""
        raise FileNotFoundError(
            f"{repo_id}{at}: not in the local hub cache and the hub cannot be reached ({type(e).__name__}); "
            "point at a built folder instead (deepimagine build --out DIR)"
        ) from None


def split_files(folder: str | os.PathLike, config: str, split: str) -> list[Path]:
    """The parquet shards of one config's split, in shard order (``<config>/<split>-00000-of-000NN.parquet``)."""
    return sorted((Path(folder) / config).glob(f"{split}-*.parquet"))


def read_split(
    folder: str | os.PathLike, config: str, split: str = "train", columns: Sequence[str] | None = None
) -> pa.Table:
    """One config's split of a dataset folder as one Arrow table (``columns``: only those, in that order).

    A missing config or split is a ``FileNotFoundError`` naming the folder and what it does hold."""
    files = split_files(folder, config, split)
    if not files:
        base = Path(folder)
        if not base.is_dir():
            raise FileNotFoundError(f"{base}: no such dataset folder (run `deepimagine build`)")
        if not (base / config).is_dir():
            have = [p.name for p in sorted(base.iterdir()) if p.is_dir() and not p.name.startswith(".")]
            raise FileNotFoundError(
                f"{base}: no config {config!r} (configs: {', '.join(have) or 'none'}; run `deepimagine build`)"
            )
        have = sorted({p.name.split("-")[0] for p in (base / config).glob("*.parquet")})
        have_text = ", ".join(have) or "none"
        raise FileNotFoundError(f"{base}: config {config!r} has no split {split!r} (splits: {have_text})")
    cols = list(columns) if columns is not None else None
    return pa.concat_tables([pq.read_table(f, columns=cols) for f in files])


def _hard_link(src: str, dst: str) -> str:
    try:
        os.link(src, dst)
        return dst
    except OSError:  # another filesystem below the folder, or links not allowed: a copy
        return shutil.copy2(src, dst)


def _link_or_copy(src: str, dst: str) -> str:
    """Hard-link parquet shards (never rewritten in place, only replaced), copy everything else."""
    return _hard_link(src, dst) if src.endswith(".parquet") else shutil.copy2(src, dst)


def _split_card(text: str) -> tuple[dict, str]:
    if not text.startswith("---\n"):
        return {}, text
    end = text.find("\n---\n", 4)
    if end < 0:
        raise ValueError("README.md: YAML front matter opened with --- but never closed")
    return yaml.safe_load(text[4 : end + 1]) or {}, text[end + len("\n---\n") :]


def _replace_section(body: str, section: str) -> str:
    """Put ``section`` (markdown starting with a ``## `` heading) in place of the section with the same heading, else
    before ``## Citation``, else at the end."""
    section = section.strip()
    heading = section.splitlines()[0].strip()
    if not heading.startswith("## "):
        raise ValueError(f"a card section starts with a '## ' heading, got {heading!r}")
    lines = body.strip("\n").split("\n")
    in_fence = False
    starts: list[tuple[int, str]] = []
    for i, line in enumerate(lines):
        if line.startswith("```"):
            in_fence = not in_fence
        elif not in_fence and line.startswith("## "):
            starts.append((i, line.strip()))
    new = section.split("\n")
    for j, (i, h) in enumerate(starts):
        if h == heading:
            end = starts[j + 1][0] if j + 1 < len(starts) else len(lines)
            tail = lines[end:]
            return "\n".join(lines[:i] + new + ([""] + tail if tail else [])) + "\n"
    for i, h in starts:
        if h == "## Citation":
            return "\n".join(lines[:i] + new + [""] + lines[i:]) + "\n"
    return "\n".join(lines + ["", *new]) + "\n"


def add_config(
    folder: str | os.PathLike,
    config: str,
    splits: dict[str, pa.Table],
    *,
    section: str | None = None,
) -> Path:
    """Add (or replace) one config of an existing hub dataset folder, atomically; returns the folder.

    The folder is copied beside itself (parquet shards hard-linked), ``<config>/`` is written anew in the copy, the
    card's ``configs:`` and ``dataset_info:`` entries for ``config`` are replaced or appended (the other configs and
    the default are left as they are), ``section`` (markdown with a ``## `` heading) replaces the card section of the
    same heading or goes before ``## Citation``, and the copy is renamed into place.

    >>> add_config("hub/deepimagine/pairs", "traces", {"train": table}, section="## traces\\n...")  # doctest: +SKIP
    PosixPath('hub/deepimagine/pairs')
    """
    final = Path(folder)
    card = final / "README.md"
    if not card.is_file():
        raise FileNotFoundError(f"{card}: no dataset card (write the dataset first)")
    with _writing_into(final.parent):
        return _add_config(final, config, splits, section)


def _add_config(final: Path, config: str, splits: dict[str, pa.Table], section: str | None) -> Path:
    meta, body = _split_card((final / "README.md").read_text(encoding="utf-8"))
    tmp = temp_dir(f".tmp-{final.name}-", final.parent)
    try:
        shutil.copytree(final, tmp, dirs_exist_ok=True, copy_function=_link_or_copy)
        shutil.rmtree(tmp / config, ignore_errors=True)
        data_files, split_info, schema = _write_config(tmp, config, splits, f"{final.name}/{config}")
        if schema is None:
            raise ValueError(f"{final.name}/{config}: no splits to write")

        def upsert(entries, entry: dict) -> list:
            entries = [entries] if isinstance(entries, dict) else list(entries or [])
            for i, e in enumerate(entries):
                if isinstance(e, dict) and e.get("config_name") == config:
                    if e.get("default"):
                        entry = {**entry, "default": True}
                    entries[i] = entry
                    return entries
            return [*entries, entry]

        meta["configs"] = upsert(meta.get("configs"), {"config_name": config, "data_files": data_files})
        meta["dataset_info"] = upsert(
            meta.get("dataset_info"),
            {"config_name": config, "features": features_yaml(schema), "splits": split_info},
        )
        if "size_categories" in meta:  # the new config's rows count too (traces added to the pairs)
            meta["size_categories"] = [size_category(_card_rows(meta["dataset_info"]))]
        if section:
            body = _replace_section(body, section)
        front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000)
        (tmp / "README.md").unlink()  # a fresh file: never write through a link into the live folder
        (tmp / "README.md").write_text(f"---\n{front}---\n\n{body.strip()}\n", encoding="utf-8")
        _move_into_place(tmp, final)
        return final
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _link_entry(src: Path, dst: Path) -> None:
    """``src`` at ``dst`` too, sharing its files: the same inodes, so a lock file held on one is held on both."""
    if src.is_symlink():
        os.symlink(os.readlink(src), dst)
    elif src.is_dir():
        shutil.copytree(src, dst, symlinks=True, copy_function=_hard_link)
    else:
        _hard_link(os.fspath(src), os.fspath(dst))


class BuildTransaction:
    """The datasets of one build, written under :attr:`staging`, appear as ``root/<org>/<name>`` together.

    Builders write ``staging/<org>/<name>``; :meth:`commit` links in whatever else ``root/<org>`` holds (a
    leaderboard, other datasets, but no leftover of a killed writer) and swaps the two ``<org>`` folders in one step.
    A build killed at any point leaves the previous datasets as they were. One build at a time per root: a second
    one gets :class:`BuildError`; entering cleans what a killed build left (``root/.tmp-<org>-*``, ``.old-<org>-*``,
    and ``.tmp-*``/``.old-*`` inside ``root/<org>``), naming each in :attr:`notes`.

    >>> with BuildTransaction("hub") as tx:  # doctest: +SKIP
    ...     trials.write(tx.staging); pairs.write(tx.staging, opts, ctx)
    ...     tx.commit()
    """

    def __init__(
        self,
        root: str | os.PathLike,
        org: str = "deepimagine",
        names: Iterable[str] = ("trials", "pairs", "bench"),
        say: Callable[[str], None] | None = None,
    ):
        self.live = (Path(root) / org).resolve()
        self.root, self.org = self.live.parent, org
        self.names = frozenset(names)
        self.notes: list[str] = []
        self.staging: Path | None = None
        self.committed = False
        self._say = say
        self._build_lock: int | None = None
        self._made_root = False

    def _note(self, text: str) -> None:
        self.notes.append(text)
        if self._say is not None:
            self._say(text)

    def __enter__(self) -> BuildTransaction:
        if os.path.lexists(self.live) and not self.live.is_dir():
            raise BuildError(f"{self.live} is not a folder: move it away and build again")
        try:
            self._made_root = not self.root.exists()
            self.root.mkdir(parents=True, exist_ok=True)
            self._build_lock = self._lock_build()
            with self._swap_lock():
                self._clean_leftovers()
            self.staging = temp_dir(f".tmp-{self.org}-", self.root)
        except OSError as e:
            self._release()
            raise BuildError(f"cannot build into {self.root}: {e}") from None
        except BaseException:
            self._release()
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self.staging is not None:
                # before commit: the unfinished build; after: the previous datasets
                shutil.rmtree(self.staging, ignore_errors=True)
        finally:
            self._release()
        if not self.committed and self._made_root:
            # a first build that failed (a bad input found while reading) leaves no folder behind, as if it had
            # failed before starting; only this build made the folder, so only its lock files are in it
            for lock in (self.root / f".{self.org}.build.lock", _lock_path(self.live)):
                with contextlib.suppress(OSError):
                    lock.unlink()
            with contextlib.suppress(OSError):
                self.root.rmdir()

    def _release(self) -> None:
        if self._build_lock is not None:
            os.close(self._build_lock)
            self._build_lock = None

    def _lock_build(self) -> int | None:
        if fcntl is None:
            return None
        fd = os.open(self.root / f".{self.org}.build.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            # a POSIX lock, not flock: the build's forked workers do not inherit it, so a worker outliving a killed
            # build cannot keep the next build out
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
            os.close(fd)
            if e.errno not in (errno.EACCES, errno.EAGAIN):
                raise
            raise BuildError(
                f"another build is writing to {self.live} ({holder or 'process unknown'}): wait for it to finish "
                "or build into another folder"
            ) from None
        started = time.strftime("%Y-%m-%d %H:%M:%S")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, started {started}\n".encode(), 0)
        return fd

    @contextlib.contextmanager
    def _swap_lock(self) -> Iterator[None]:
        """Exclusive: no dataset is being written into ``root/<org>`` meanwhile (see :func:`_writing_into`)."""
        if fcntl is None:
            yield
            return
        fd = os.open(_lock_path(self.live), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self._note(f"waiting for another command writing into {self.live} to finish")
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _remove(self, path: Path, why: str) -> None:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                path.unlink()
        if os.path.lexists(path):
            self._note(f"could not remove {path} ({why}); remove it by hand")
        else:
            self._note(f"removed {path} ({why})")

    def _clean_leftovers(self) -> None:
        # only builds make root/.tmp-<org>-* and .old-<org>-*, and this one holds the build lock; inside root/<org>,
        # every writer holds the swap lock taken here: whatever they left is dead
        for old in sorted(self.root.glob(f".old-{self.org}-*")):
            if not os.path.lexists(self.live):
                os.rename(old, self.live)
                self._note(f"put back {self.live} from {old.name} (a build was killed while swapping it in)")
                continue
            for entry in sorted(old.iterdir()):
                if not os.path.lexists(self.live / entry.name):
                    os.rename(entry, self.live / entry.name)
                    self._note(f"put back {self.live / entry.name} from {old.name}")
            self._remove(old, "left by a build killed while swapping")
        for tmp in sorted(self.root.glob(f".tmp-{self.org}-*")):
            self._remove(tmp, "left by a build that was killed")
        if not self.live.is_dir():
            return
        for p in sorted(self.live.iterdir()):
            if p.name.startswith(".old-"):
                name = p.name.removeprefix(".old-").rsplit("-", 1)[0]
                if not os.path.lexists(self.live / name):
                    os.rename(p, self.live / name)
                    self._note(f"put back {self.live / name} from {p.name} (a write was killed while swapping it in)")
                else:
                    self._remove(p, "left by a killed write")
            elif p.name.startswith(".tmp-"):
                self._remove(p, "left by a killed write")

    def commit(self) -> Path:
        """Swap the staged ``<org>`` folder in; returns ``root/<org>``."""
        if self.staging is None:
            raise RuntimeError("commit() outside the transaction's with-block")
        new = self.staging / self.org
        new.mkdir(exist_ok=True)
        with self._swap_lock():
            if self.live.is_dir():
                for entry in sorted(self.live.iterdir()):
                    if entry.name in self.names or entry.name.startswith(STRAY_PREFIXES):
                        continue
                    if not os.path.lexists(new / entry.name):
                        _link_entry(entry, new / entry.name)
                shutil.copymode(self.live, new)
                _move_into_place(new, self.live)
            elif os.path.lexists(self.live):
                raise BuildError(f"{self.live} is not a folder: move it away and build again")
            else:
                os.rename(new, self.live)
            self.committed = True
        return self.live
