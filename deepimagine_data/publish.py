"""Publish a local hub-layout dataset folder (as `deepimagine build` writes it) to the Hugging Face hub.

``plan(folder, "ORG/NAME", "0.1.0")`` checks the folder and lists what would be sent; ``publish(plan)`` sends it.
The plan reads every parquet shard the card's configs name (footer against the card's features and num_examples, then
every row, shard by shard, against the fingerprint the card states) and sends only README.md and those shards:

1. ``create_repo(repo_id, repo_type="dataset", exist_ok=True)``
2. one ``create_commit`` holding a ``CommitOperationAdd`` per file sent and a ``CommitOperationDelete`` per file that
   is on the hub but not sent, so the branch mirrors exactly what the card names;
3. ``create_tag("v<version>", revision=<that commit>)``.

A version is published once: an existing tag is refused, never moved, so ``load_dataset(repo, cfg, revision=tag)``
always returns the same bytes. ``publish(plan, dry_run=True)`` prints the operations and makes no network call.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from . import __version__
from .fsutil import sha256_file
from .hub import CARD_KEY, card_stamp

REPO_TYPE = "dataset"

# Never deleted even though the folder lacks them: the hub creates .gitattributes with every repo and uses it to route
# binary files (parquet) through LFS/Xet; deleting it would change how later uploads are stored.
KEEP_REMOTE = frozenset({".gitattributes"})

# Not dataset content: git metadata and the hub client's own download/upload bookkeeping (.cache/huggingface).
SKIP_DIRS = frozenset({".git", ".cache"})

_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")

# PEP 440 (1.0, 0.1.0rc1, 1.0.post2, 2.0.dev3) and semver (1.0.0, v1.0.0-rc.1, 1.0.0+build.5), optional leading "v".
_VERSION = re.compile(
    r"""^v?
    \d+(?:\.\d+){0,3}
    (?:[-.]?(?:a|b|c|rc|alpha|beta|pre|preview)(?:[-.]?\d+)?)?
    (?:[-.]?post(?:[-.]?\d+)?)?
    (?:[-.]?dev(?:[-.]?\d+)?)?
    (?:\+[0-9A-Za-z]+(?:[.-][0-9A-Za-z]+)*)?
    $""",
    re.X,
)

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)

SHA_PREFIX = 12


class PublishError(ValueError):
    """A folder, version or repo id that cannot be published, or a hub call that failed; the message is one line."""


@dataclass(frozen=True)
class FileEntry:
    path: str  # path in the repo, posix, relative to the folder
    size: int
    sha256: str


@dataclass(frozen=True)
class PublishPlan:
    folder: Path
    repo_id: str
    version: str
    tag: str
    revision: str
    files: tuple[FileEntry, ...]
    configs: tuple[str, ...]
    fingerprint: str
    # None until the remote repo has been listed (a dry run never lists it).
    deletes: tuple[str, ...] | None = None
    shards: int = 0  # parquet shards checked against the card
    rows: int = 0
    card_fingerprint: str | None = None  # the card's fingerprint of the tables, matched by the rows; None: not stated
    not_fingerprinted: tuple[str, ...] = ()  # configs added after the build, outside the card's fingerprint
    skipped: tuple[tuple[str, str], ...] = ()  # (path, why) of files in the folder that are not uploaded

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def commit_message(self) -> str:
        return f"deepimagine-data: {self.repo_id} {self.tag}"

    @property
    def commit_description(self) -> str:
        return (
            f"Published with `deepimagine publish` (deepimagine-data {__version__}).\n\n"
            f"- version: {self.version} (tag {self.tag})\n"
            f"- files: {len(self.files)} ({self.total_bytes:,} bytes)\n"
            f"- configs: {', '.join(self.configs)}\n"
            f"- local folder fingerprint (deepimagine_data.hub.folder_fingerprint): {self.fingerprint}\n"
        )

    @property
    def tag_message(self) -> str:
        return f"{self.repo_id} {self.tag}: folder fingerprint {self.fingerprint}"


def tag_name(version: str) -> str:
    """``0.1.0`` -> ``v0.1.0``; ``v1.0`` stays ``v1.0``. Raises PublishError for anything else than a version."""
    if not isinstance(version, str) or not _VERSION.match(version):
        raise PublishError(
            f"bad version {version!r}: expected a PEP 440 or semver version such as 0.1.0, 1.0, v1.0.0 or 1.0.0rc1"
        )
    return version if version.startswith("v") else f"v{version}"


def check_repo_id(repo_id: str) -> None:
    if not isinstance(repo_id, str) or not _REPO_ID.match(repo_id):
        raise PublishError(f"bad repo id {repo_id!r}: expected ORG/NAME (letters, digits, '-', '_', '.')")
    from huggingface_hub.utils import validate_repo_id

    # The hub's own rules (length, '--', '..', '.git') beyond the ORG/NAME shape checked above.
    try:
        validate_repo_id(repo_id)
    except ValueError as e:
        raise PublishError(f"bad repo id {repo_id!r}: {str(e).splitlines()[0]}") from None


def _check_no_strays(folder: Path) -> None:
    # what a writer leaves beside a final folder while it works; one left over means a build is still running or
    # was killed, and the folder may not be the one the user meant to publish
    from .hub import STRAY_PREFIXES

    siblings = sorted(
        p.name
        for p in folder.parent.iterdir()
        if p.name.startswith(tuple(f"{s}{folder.name}-" for s in STRAY_PREFIXES))
    )
    if siblings:
        raise PublishError(
            f"{folder.parent / siblings[0]} is left over from a build of {folder.name} (still running or killed): "
            "wait for it or remove it before publishing"
        )
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if rel.parts[0] in SKIP_DIRS:
            continue
        if p.name.startswith(STRAY_PREFIXES):
            raise PublishError(f"stray temporary entry {rel.as_posix()!r} in {folder}: remove it before publishing")


def _card(folder: Path) -> tuple[dict, str]:
    """The card's front matter and body."""
    readme = folder / "README.md"
    if not readme.is_file():
        raise PublishError(f"{folder} has no README.md: a hub dataset needs a card with `configs:` in its front matter")
    try:
        text = readme.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise PublishError(f"{readme}: not UTF-8 text (byte {e.start})") from None
    m = _FRONT_MATTER.match(text)
    if not m:
        raise PublishError(f"{readme} has no YAML front matter (a block between '---' lines at the top)")
    try:
        meta = yaml.safe_load(m.group(1))
    except yaml.YAMLError as e:
        raise PublishError(f"{readme}: front matter is not valid YAML: {str(e).splitlines()[0]}") from None
    if not isinstance(meta, dict):
        raise PublishError(f"{readme}: front matter is not a YAML mapping")
    return meta, text[m.end() :]


def _split_patterns(cfg: dict, name: str) -> dict[str, list[str]]:
    """split -> the path globs a config's data_files names, in the shapes datasets accepts (no split: train)."""
    data_files = cfg.get("data_files")
    if data_files is None:
        if cfg.get("data_dir") is not None:
            # Without data_files the split of each file is datasets' guess from its name: the shards could not be
            # checked against the card's num_examples per split.
            raise PublishError(
                f"README.md: config {name!r} names its files by data_dir: publish checks shards per split and needs "
                "data_files with split and path (as `deepimagine build` writes them)"
            )
        raise PublishError(f"README.md: config {name!r} has no data_files")
    if isinstance(data_files, dict):
        items: list = [{"split": split, "path": path} for split, path in data_files.items()]
    else:
        items = data_files if isinstance(data_files, list) else [data_files]
    out: dict[str, list[str]] = {}
    for item in items:
        split = item.get("split", "train") if isinstance(item, dict) else "train"
        paths = item.get("path") if isinstance(item, dict) else item
        for p in paths if isinstance(paths, list) else [paths]:
            if not isinstance(p, str) or not p or not isinstance(split, str) or not split:
                raise PublishError(f"README.md: config {name!r} has a data_files entry without a path: {item!r}")
            out.setdefault(split, []).append(p)
    return out


@dataclass(frozen=True)
class _Config:
    name: str
    shards: dict[str, tuple[Path, ...]]  # split -> its files, in the order they were written
    features: list
    num_examples: dict[str, int]


def _dataset_info(meta: dict, name: str, n_configs: int) -> dict:
    info = meta.get("dataset_info")
    entries = [info] if isinstance(info, dict) else info if isinstance(info, list) else []
    for e in entries:
        if isinstance(e, dict) and (e.get("config_name") == name or ("config_name" not in e and n_configs == 1)):
            return e
    raise PublishError(
        f"README.md: `dataset_info:` has no entry for config {name!r}: its shards cannot be checked against the "
        "card's features and num_examples (write the folder with `deepimagine build`)"
    )


def _num_examples(info: dict, name: str) -> dict[str, int]:
    out: dict[str, int] = {}
    splits = info.get("splits")
    for s in splits if isinstance(splits, list) else []:
        n = s.get("num_examples") if isinstance(s, dict) else None
        if not isinstance(s, dict) or not isinstance(s.get("name"), str) or not isinstance(n, int) or n < 0:
            raise PublishError(
                f"README.md: dataset_info of config {name!r}: split entry {s!r} has no name/num_examples"
            )
        out[s["name"]] = n
    return out


def _check_configs(folder: Path, meta: dict) -> list[_Config]:
    configs = meta.get("configs")
    if not configs:
        raise PublishError(f"{folder / 'README.md'}: front matter has no `configs:` (config_name + data_files)")
    if not isinstance(configs, list) or not all(isinstance(c, dict) for c in configs):
        raise PublishError("README.md: `configs:` must be a list of mappings with config_name and data_files")
    out: list[_Config] = []
    for cfg in configs:
        name = cfg.get("config_name")
        if not isinstance(name, str) or not name:
            raise PublishError(f"README.md: a config has no config_name: {cfg!r}")
        if name in [c.name for c in out]:
            raise PublishError(f"README.md: config {name!r} is declared twice")
        shards: dict[str, tuple[Path, ...]] = {}
        for split, patterns in _split_patterns(cfg, name).items():
            found: set[Path] = set()
            for pattern in patterns:
                if pattern.startswith("/") or ".." in Path(pattern).parts:
                    raise PublishError(f"README.md: config {name!r}: data_files path {pattern!r} leaves the folder")
                matched = {p for p in folder.glob(pattern) if p.is_file()}
                if not matched:
                    raise PublishError(f"README.md: config {name!r}: data_files path {pattern!r} matches no file")
                found |= matched
            # Path order is the order hub.write_hub_dataset wrote them in ({split}-00000-of-00002, -00001-of-...).
            shards[split] = tuple(sorted(found))
        info = _dataset_info(meta, name, len(configs))
        features = info.get("features")
        if not isinstance(features, list) or not features:
            raise PublishError(
                f"README.md: dataset_info of config {name!r} has no features: its shards cannot be checked"
            )
        num_examples = _num_examples(info, name)
        for split in shards:
            if split not in num_examples:
                raise PublishError(f"README.md: config {name!r}: split {split!r} has no num_examples in dataset_info")
        for split in num_examples:
            if split not in shards:
                raise PublishError(
                    f"README.md: config {name!r}: dataset_info lists split {split!r} but data_files has none"
                )
        out.append(_Config(name, shards, features, num_examples))
    return out


def _rel(folder: Path, p: Path) -> str:
    return p.relative_to(folder).as_posix()


def _feature_text(entry: dict) -> str:
    return yaml.safe_dump({k: v for k, v in entry.items() if k != "name"}, default_flow_style=True, width=10**6).strip()


def _schema_difference(got: list, want: list, cfg: str) -> str:
    """How a shard's features differ from the card's, naming the first column that differs."""
    g = {e.get("name"): e for e in got}
    w = {e.get("name"): e for e in want}
    for e in want:
        if e.get("name") not in g:
            return f"has no column {e.get('name')!r} that the card declares for config {cfg!r} ({_feature_text(e)})"
    for e in got:
        if e.get("name") not in w:
            return f"has a column {e.get('name')!r} that the card does not declare for config {cfg!r}"
    for e in want:
        if g[e.get("name")] != e:
            return (
                f"column {e.get('name')!r} is {_feature_text(g[e.get('name')])} but the card declares "
                f"{_feature_text(e)} for config {cfg!r}"
            )
    order = ", ".join(str(e.get("name")) for e in got)
    return f"has the columns of config {cfg!r} in another order than the card ({order})"


def _unreadable(rel: str, e: BaseException) -> PublishError:
    return PublishError(f"{rel}: not a readable parquet file ({_first_line(e)}): rebuild the folder")


def _check_shards(folder: Path, configs: list[_Config]) -> tuple[dict[str, Any], int, int]:
    """Each shard's footer against the card: parquet, the config's features, rows per split. Returns config -> the
    schema its rows are fingerprinted with, and the number of shards and rows checked."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .hub import _plain_schema, features_yaml

    schemas: dict[str, Any] = {}
    n_shards = n_rows = 0
    for cfg in configs:
        for split, files in cfg.shards.items():
            rows = 0
            for f in files:
                rel = str(f)
                if f.suffix != ".parquet":
                    raise PublishError(
                        f"{rel}: config {cfg.name!r} names a {f.suffix or 'suffix-less'} file; publish checks and "
                        "uploads parquet shards only"
                    )
                try:
                    with open(f, "rb") as fh:
                        meta = pq.ParquetFile(fh).metadata  # the footer only, whatever the file's size
                        schema = _plain_schema(meta.schema.to_arrow_schema())
                except (pa.ArrowException, OSError) as e:
                    raise _unreadable(rel, e) from None
                if cfg.name not in schemas or not schema.equals(schemas[cfg.name]):
                    got = features_yaml(schema)
                    if got != cfg.features:
                        raise PublishError(f"{rel}: {_schema_difference(got, cfg.features, cfg.name)}")
                    schemas[cfg.name] = schema
                rows += meta.num_rows
                n_shards += 1
            if rows != cfg.num_examples[split]:
                names = [str(f) for f in files]
                listed = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
                raise PublishError(
                    f"{listed}: config {cfg.name!r} split {split!r} holds {rows:,} rows but the card's num_examples "
                    f"is {cfg.num_examples[split]:,}"
                )
            n_rows += rows
    return schemas, n_shards, n_rows


def _split_digest(folder: Path, files: tuple[Path, ...], schema) -> bytes:
    """The TableDigest of a split's rows, read shard by shard and row group by row group: memory holds a row group
    and one fingerprint batch, never a whole shard."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .tables import TableDigest, rechunk

    def pieces():
        for f in files:
            rel = str(f)
            with open(f, "rb") as fh:
                try:
                    pf = pq.ParquetFile(fh)
                    for i in range(pf.num_row_groups):
                        yield pf.read_row_group(i).cast(schema)
                except (pa.ArrowException, OSError) as e:
                    raise _unreadable(rel, e) from None

    digest = TableDigest(schema)
    # rechunk cuts the rows at the same places as the build did (batches of tables.ROW_GROUP rows across shards).
    for chunk in rechunk(pieces()):
        digest.update(chunk)
    return digest.digest()


def card_fingerprint(meta: dict, where: str) -> str | None:
    """The fingerprint of the rows a card was built from (tables.combine_digests of one TableDigest per
    config/split, which hub.write_hub_dataset hands to the builder's card), as its front matter states it
    (``deepimagine: {fingerprint: <sha256>}``), or None when it states none; a malformed one is an error naming the
    card."""
    try:
        block = card_stamp(meta)
    except ValueError as e:
        raise PublishError(f"{where}: {e}") from None
    fp = block.get("fingerprint")
    if fp is None:
        return None
    if not isinstance(fp, str) or not re.fullmatch(r"[0-9a-f]{64}", fp):
        raise PublishError(f"{where}: front matter `{CARD_KEY}.fingerprint` is not a sha256 hex digest: {fp!r}")
    return fp


# Configs that a later command adds to a built folder through hub.add_config, after the card's fingerprint was taken
# (`deepimagine traces`): their shards are checked against the card's features and counts, not against it.
ADDED_LATER = frozenset({"traces"})


def _check_fingerprint(folder: Path, configs: list[_Config], schemas: dict[str, Any], meta: dict) -> tuple:
    """Reads every row and compares their fingerprint with the one the card states; returns (stated or None, the
    configs it does not cover)."""
    from .tables import combine_digests

    digests = {
        f"{cfg.name}/{split}": _split_digest(folder, files, schemas[cfg.name])
        for cfg in configs
        for split, files in cfg.shards.items()
    }
    want = card_fingerprint(meta, str(folder / "README.md"))
    if want is None:
        return None, ()
    # The build digests the splits it writes (those the card lists); a config added later (`deepimagine traces`)
    # has its own rows checked against the card above but was not there when the fingerprint was taken.
    built = {k: d for k, d in digests.items() if k.split("/", 1)[0] not in ADDED_LATER}
    if combine_digests(built) == want:
        return want, tuple(c.name for c in configs if c.name in ADDED_LATER)
    shards = [f for c in configs for files in c.shards.values() for f in files]
    # The build writes the card after every shard: one modified later is the likely culprit (a hint, not a proof;
    # the fingerprint covers all rows at once and cannot say which shard differs).
    card_time = (folder / "README.md").stat().st_mtime_ns
    newer = [str(f) for f in shards if f.stat().st_mtime_ns > card_time]
    hint = f" ({', '.join(newer[:3])}{' and more' if len(newer) > 3 else ''} modified after the card)" if newer else ""
    raise PublishError(
        f"{folder / 'README.md'}: the card states fingerprint {want} but the rows of its {len(shards)} shards give "
        f"{combine_digests(built)}: a shard was changed or replaced after the build{hint}; rebuild the folder"
    )


# Hidden files are refused, not skipped: a build never writes one, and they are where secrets live (.env, .netrc,
# .git-credentials, .huggingface/token) — no name tells a safe one from a token, and skipping would leave the user
# believing a folder they are about to share is clean. Moving one file out of the folder costs little; a token
# published to the hub stays in its history.
def _refuse_hidden(folder: Path, rel: Path) -> None:
    hidden = next(part for part in rel.parts if part.startswith("."))
    path = Path(*rel.parts[: rel.parts.index(hidden) + 1]).as_posix()
    raise PublishError(
        f"{folder / path}: hidden {'folder' if (folder / path).is_dir() else 'file'} in the "
        f"dataset folder; it may hold a token or other secret and is never uploaded: move it out of {folder} "
        "before publishing"
    )


def _local_files(folder: Path, named: set[Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """The files to upload (README.md and the data files the configs name) and the ones left out, with why."""
    files: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if rel.parts[0] in SKIP_DIRS:
            continue
        if any(part.startswith(".") for part in rel.parts):
            _refuse_hidden(folder, rel)
        if p.is_symlink() and not p.resolve().is_relative_to(folder):
            # what would be uploaded is a file elsewhere on this machine, not part of the dataset
            raise PublishError(f"{p}: a link to {p.resolve()}, outside {folder}: publish uploads no such file")
        if not p.is_file():
            continue
        if p.suffix == ".py":
            # datasets >= 5 refuses any dataset folder holding a script ("Dataset scripts are no longer supported").
            raise PublishError(f"{rel.as_posix()}: a dataset repo must not hold Python scripts (datasets refuses it)")
        if rel.as_posix() == "README.md" or p in named:
            files.append(p)
        else:
            # Skipped, not refused: a stray file (notes, an export, a shard no config names) is no secret by
            # convention and not part of the dataset the card describes; leaving it out publishes exactly what the
            # card loads, and the plan lists it so nobody misses that it stays behind.
            skipped.append((rel.as_posix(), "no config of the card names it"))
    return files, skipped


def _fingerprint_of(files: tuple[FileEntry, ...]) -> str:
    """hub.folder_fingerprint of the uploaded files, from the sha256 already computed (same order, same bytes)."""
    h = hashlib.sha256()
    for f in sorted(files, key=lambda f: Path(f.path).parts):
        h.update(str(Path(f.path)).encode())
        h.update(bytes.fromhex(f.sha256))
    return h.hexdigest()


def plan(folder: str | os.PathLike, repo_id: str, version: str, *, revision: str = "main") -> PublishPlan:
    """Check ``folder`` and return the operations that publish it as ``repo_id`` at tag ``v<version>``.

    Reads only the local folder: the card, every shard's footer and rows (checked against the card's features,
    num_examples and fingerprint), every uploaded file's sha256; no network call. Remote deletions and the
    tag-exists check need the hub and are resolved by ``publish``.
    """
    check_repo_id(repo_id)
    tag = tag_name(version)
    if not revision or not re.match(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$", revision) or ".." in revision:
        raise PublishError(f"bad revision {revision!r}: expected a branch name such as main")
    root = Path(folder)
    if not root.is_dir():
        raise PublishError(f"{root} is not a directory (run `deepimagine build` first, or pass --folder)")
    root = root.resolve()
    _check_no_strays(root)
    meta, _ = _card(root)
    configs = _check_configs(root, meta)
    named = {f for c in configs for files in c.shards.values() for f in files}
    local, skipped = _local_files(root, named)
    schemas, n_shards, n_rows = _check_shards(root, configs)
    stated, uncovered = _check_fingerprint(root, configs, schemas, meta)
    files = tuple(FileEntry(_rel(root, p), p.stat().st_size, sha256_file(p)) for p in local)
    return PublishPlan(
        folder=root,
        repo_id=repo_id,
        version=version,
        tag=tag,
        revision=revision,
        files=files,
        configs=tuple(c.name for c in configs),
        fingerprint=_fingerprint_of(files),
        shards=n_shards,
        rows=n_rows,
        card_fingerprint=stated,
        not_fingerprinted=uncovered,
        skipped=tuple(skipped),
    )


def _private_arg(private: bool) -> bool | None:
    # Without --private pass None, not False: the hub then applies the organization's default visibility instead of
    # forcing a private-by-default org's dataset public.
    return True if private else None


def describe(p: PublishPlan, *, private: bool = False, dry_run: bool = False) -> list[str]:
    """One line per operation, in the order ``publish`` runs them; files sorted, with size and sha256 prefix."""
    head = "dry run (no network call): " if dry_run else ""
    lines = [
        f"{head}publish {p.folder} -> dataset {p.repo_id} tag {p.tag}",
        f"folder: {len(p.files)} files, {p.total_bytes:,} bytes, configs {', '.join(p.configs)}; "
        f"fingerprint {p.fingerprint[:16]}",
        f"checked: {p.shards} parquet shards, {p.rows:,} rows, against the card's features and num_examples; "
        + (
            f"their rows give the card's fingerprint {p.card_fingerprint[:16]}"
            + (f" ({', '.join(p.not_fingerprinted)} added later: not covered by it)" if p.not_fingerprinted else "")
            if p.card_fingerprint
            else "the card states no fingerprint of the tables to compare"
        ),
        *(f"skip: {path} ({why}; not uploaded)" for path, why in p.skipped),
        f"create_repo(repo_id={p.repo_id!r}, repo_type={REPO_TYPE!r}, exist_ok=True, private={_private_arg(private)})",
    ]
    if p.revision != "main":
        lines.append(
            f"create_branch(repo_id={p.repo_id!r}, repo_type={REPO_TYPE!r}, branch={p.revision!r}, exist_ok=True)"
        )
    if dry_run:
        lines.append(f"check: tag {p.tag} must not exist on {p.repo_id} yet (versions are immutable)")
    n_ops = len(p.files) + len(p.deletes or ())
    lines.append(
        f"create_commit(repo_id={p.repo_id!r}, repo_type={REPO_TYPE!r}, revision={p.revision!r}, "
        f"operations={n_ops}, commit_message={p.commit_message!r})"
    )
    width = max((len(f.path) for f in p.files), default=0)
    size_width = max((len(f"{f.size:,}") for f in p.files), default=0)
    for f in sorted(p.files, key=lambda f: f.path):
        lines.append(f"  add     {f.path:<{width}}  {f.size:>{size_width},} B  sha256:{f.sha256[:SHA_PREFIX]}")
    if p.deletes is None:
        lines.append(
            "  delete  (not listed: the remote repo is not read in a dry run; at publish, files on the hub that are "
            f"not in the folder are deleted, {', '.join(sorted(KEEP_REMOTE))} kept)"
        )
    else:
        lines.extend(f"  delete  {path}" for path in p.deletes)
    lines.append(
        f"create_tag(repo_id={p.repo_id!r}, repo_type={REPO_TYPE!r}, tag={p.tag!r}, revision=<oid of that commit>, "
        f"tag_message={p.tag_message!r})"
    )
    return lines


def _changed_files(p: PublishPlan) -> list[str]:
    changed = []
    for f in p.files:
        path = p.folder / f.path
        if not path.is_file() or path.stat().st_size != f.size or sha256_file(path) != f.sha256:
            changed.append(f.path)
    return changed


def _transport_errors() -> tuple[type[BaseException], ...]:
    # huggingface_hub 2.4 talks through httpx2, whose connection errors are not OSError. Looked up, not imported, so
    # that a hub client on another HTTP library still works (its errors then surface as tracebacks).
    errors: list[type[BaseException]] = []
    for name in ("httpx2", "httpx"):
        try:
            errors.append(__import__(name).TransportError)
        except (ImportError, AttributeError):
            pass
    return tuple(errors)


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def publish(
    p: PublishPlan,
    *,
    token: str | None = None,
    endpoint: str | None = None,
    private: bool = False,
    dry_run: bool = False,
    out: Callable[[str], Any] = print,
    api: Any = None,
) -> str | None:
    """Run ``p`` against the hub and return the commit URL; with ``dry_run`` print the operations and return None.

    ``api`` replaces ``HfApi(endpoint=endpoint, token=token)`` (tests, or a client configured elsewhere).
    """
    if dry_run:
        for line in describe(p, private=private, dry_run=True):
            out(line)
        return None

    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, constants
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    if api is None:
        if constants.is_offline_mode():
            raise PublishError("HF_HUB_OFFLINE is set: unset it to publish (or use --dry-run)")
        api = HfApi(endpoint=endpoint, token=token)
    # The sha256 in the plan is what the user reviewed; refuse to send other bytes (e.g. a rebuild since plan()).
    changed = _changed_files(p)
    if changed:
        raise PublishError(f"{p.folder} changed since it was planned ({changed[0]}): plan again")

    step = "create_repo"
    info = None
    try:
        api.create_repo(p.repo_id, repo_type=REPO_TYPE, exist_ok=True, private=_private_arg(private))
        if p.revision != "main":
            step = "create_branch"
            api.create_branch(p.repo_id, branch=p.revision, repo_type=REPO_TYPE, exist_ok=True)
        step = "list_repo_refs"
        refs = api.list_repo_refs(p.repo_id, repo_type=REPO_TYPE)
        existing = next((t for t in refs.tags if t.name == p.tag), None)
        if existing is not None:
            raise PublishError(
                f"tag {p.tag} already exists on {p.repo_id} (commit {existing.target_commit[:12]}): "
                "versions are immutable, publish a new version"
            )
        parent = next((b.target_commit for b in refs.branches if b.name == p.revision), None)
        if parent is None:
            raise PublishError(f"branch {p.revision!r} does not exist on {p.repo_id}")
        step = "list_repo_files"
        remote = api.list_repo_files(p.repo_id, repo_type=REPO_TYPE, revision=parent)
        local = {f.path for f in p.files}
        p = replace(p, deletes=tuple(sorted(set(remote) - local - KEEP_REMOTE)))
        for line in describe(p, private=private):
            out(line)
        operations = [
            CommitOperationAdd(path_in_repo=f.path, path_or_fileobj=str(p.folder / f.path)) for f in p.files
        ] + [CommitOperationDelete(path_in_repo=path) for path in p.deletes]
        step = "create_commit"
        # parent_commit makes the hub reject the commit if the branch moved after we listed it: the deletions were
        # computed against that exact state.
        info = api.create_commit(
            p.repo_id,
            operations,
            commit_message=p.commit_message,
            commit_description=p.commit_description,
            repo_type=REPO_TYPE,
            revision=p.revision,
            parent_commit=parent,
        )
        if info.oid == parent:
            out(f"no file differs from {p.revision} ({parent[:12]}): tagging it as is")
        changed = _changed_files(p)
        if changed:
            raise PublishError(
                f"{p.folder} changed during the upload ({changed[0]}): commit {info.commit_url} was not tagged"
            )
        step = "create_tag"
        api.create_tag(p.repo_id, tag=p.tag, tag_message=p.tag_message, revision=info.oid, repo_type=REPO_TYPE)
    except (HfHubHTTPError, OfflineModeIsEnabled, OSError, *_transport_errors()) as e:
        made = f" after commit {info.commit_url} (rerun the same command to tag it)" if info is not None else ""
        raise PublishError(f"{step} on {p.repo_id} failed{made}: {_first_line(e)}") from e
    out(f"committed {info.commit_url}")
    out(f"tagged {p.tag} -> {info.oid}; load it: load_dataset({p.repo_id!r}, {p.configs[0]!r}, revision={p.tag!r})")
    return info.commit_url


def add_cli(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``publish`` under the top-level subparsers; returns the new parser."""
    sp = subparsers.add_parser(
        "publish",
        help="upload a built dataset folder to the Hugging Face hub as a tagged version",
        description="Reads a local hub-layout dataset folder (as `deepimagine build` writes it: README.md card "
        "whose front matter holds `configs:`, plus the parquet files they name) and checks it: every shard is "
        "read and must match the card's features, num_examples and fingerprint of the tables; a hidden file "
        "(.env, which may hold a token) is refused. Then it uploads every file the card names (README.md and the "
        "configs' data files; any other file is listed as skipped) to the hub dataset repo ORG/NAME: "
        "create_repo (if missing), one commit that adds those files and deletes files on the hub that the "
        "folder no longer has, then a tag v<version> on that commit. "
        "An existing tag is refused (versions are immutable). --dry-run prints the operations, files with size "
        "and sha256, and makes no network call.",
    )
    sp.add_argument("--repo-id", required=True, metavar="ORG/NAME", help="hub dataset repo, e.g. deepimagine/trials")
    sp.add_argument("--version", required=True, metavar="X", help="version to tag, e.g. 0.1.0 (tag v0.1.0) or v1.0.0")
    sp.add_argument(
        "--from",
        dest="from_dir",
        type=Path,
        default=Path("hub"),
        metavar="DIR",
        help="hub root that `deepimagine build --out DIR` wrote; the folder is DIR/ORG/NAME (default: ./hub)",
    )
    sp.add_argument("--folder", type=Path, metavar="PATH", help="dataset folder to upload (overrides --from)")
    sp.add_argument("--revision", default="main", metavar="BRANCH", help="branch to commit to (default: main)")
    sp.add_argument("--private", action="store_true", help="create the repo private (default: the hub's default)")
    # Defaults are read at run time, not here, so that --help never prints a token.
    sp.add_argument("--token", help="hub token with write access (default: $HF_TOKEN, else the saved login)")
    sp.add_argument("--endpoint", metavar="URL", help="hub URL (default: $HF_ENDPOINT, else https://huggingface.co)")
    sp.add_argument("--dry-run", action="store_true", help="print the operations; no network call")
    sp.set_defaults(func=run_cli)
    return sp


def run_cli(args: argparse.Namespace) -> int:
    """Run ``deepimagine publish``: 0 on success (or a dry run), 2 with a one-line error."""
    folder = args.folder if args.folder is not None else Path(args.from_dir) / args.repo_id
    try:
        p = plan(folder, args.repo_id, args.version, revision=args.revision)
        publish(
            p,
            token=args.token or os.environ.get("HF_TOKEN") or None,
            endpoint=args.endpoint or os.environ.get("HF_ENDPOINT") or None,
            private=args.private,
            dry_run=args.dry_run,
        )
    except PublishError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0
