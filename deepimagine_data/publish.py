"""Publish a local hub-layout dataset folder (as `deepimagine build` writes it) to the Hugging Face hub.

``plan(folder, "ORG/NAME", "0.1.0")`` checks the folder and lists what would be sent; ``publish(plan)`` sends it:

1. ``create_repo(repo_id, repo_type="dataset", exist_ok=True)``
2. one ``create_commit`` holding a ``CommitOperationAdd`` per local file and a ``CommitOperationDelete`` per file that
   is on the hub but no longer here, so the branch mirrors the folder exactly;
3. ``create_tag("v<version>", revision=<that commit>)``.

A version is published once: an existing tag is refused, never moved, so ``load_dataset(repo, cfg, revision=tag)``
always returns the same bytes. ``publish(plan, dry_run=True)`` prints the operations and makes no network call.
"""

from __future__ import annotations

import argparse
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

REPO_TYPE = "dataset"

# Never deleted even though the folder lacks them: the hub creates .gitattributes with every repo and uses it to route
# binary files (parquet) through LFS/Xet; deleting it would change how later uploads are stored.
KEEP_REMOTE = frozenset({".gitattributes"})

# Not dataset content: git metadata and the hub client's own download/upload bookkeeping (.cache/huggingface).
SKIP_DIRS = frozenset({".git", ".cache"})

# hub.write_hub_dataset writes beside the final folder under these prefixes and renames into place; one left over means
# a build is still running or was killed, and the folder may not be the one the user meant to publish.
STRAY_PREFIXES = (".tmp-", ".old-")

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


def _front_matter(folder: Path) -> dict:
    readme = folder / "README.md"
    if not readme.is_file():
        raise PublishError(f"{folder} has no README.md: a hub dataset needs a card with `configs:` in its front matter")
    m = _FRONT_MATTER.match(readme.read_text(encoding="utf-8"))
    if not m:
        raise PublishError(f"{readme} has no YAML front matter (a block between '---' lines at the top)")
    try:
        meta = yaml.safe_load(m.group(1))
    except yaml.YAMLError as e:
        raise PublishError(f"{readme}: front matter is not valid YAML: {str(e).splitlines()[0]}") from None
    if not isinstance(meta, dict):
        raise PublishError(f"{readme}: front matter is not a YAML mapping")
    return meta


def _patterns(cfg: dict, name: str) -> list[str]:
    """Every path glob a config's data_files (or data_dir) names, in the shapes datasets accepts."""
    data_files = cfg.get("data_files")
    if data_files is None:
        if isinstance(cfg.get("data_dir"), str):
            return [f"{cfg['data_dir'].rstrip('/')}/**/*"]
        raise PublishError(f"README.md: config {name!r} has no data_files")
    items = data_files if isinstance(data_files, list) else [data_files]
    out: list[str] = []
    for item in items:
        paths = item.get("path") if isinstance(item, dict) else item
        for p in paths if isinstance(paths, list) else [paths]:
            if not isinstance(p, str) or not p:
                raise PublishError(f"README.md: config {name!r} has a data_files entry without a path: {item!r}")
            out.append(p)
    return out


def _check_configs(folder: Path, meta: dict) -> tuple[str, ...]:
    configs = meta.get("configs")
    if not configs:
        raise PublishError(f"{folder / 'README.md'}: front matter has no `configs:` (config_name + data_files)")
    if not isinstance(configs, list) or not all(isinstance(c, dict) for c in configs):
        raise PublishError("README.md: `configs:` must be a list of mappings with config_name and data_files")
    names: list[str] = []
    for cfg in configs:
        name = cfg.get("config_name")
        if not isinstance(name, str) or not name:
            raise PublishError(f"README.md: a config has no config_name: {cfg!r}")
        if name in names:
            raise PublishError(f"README.md: config {name!r} is declared twice")
        names.append(name)
        for pattern in _patterns(cfg, name):
            if pattern.startswith("/") or ".." in Path(pattern).parts:
                raise PublishError(f"README.md: config {name!r}: data_files path {pattern!r} leaves the folder")
            if not any(p.is_file() for p in folder.glob(pattern)):
                raise PublishError(f"README.md: config {name!r}: data_files path {pattern!r} matches no file")
    return tuple(names)


def _local_files(folder: Path) -> list[Path]:
    files = []
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if rel.parts[0] in SKIP_DIRS or not p.is_file():
            continue
        if p.suffix == ".py":
            # datasets >= 5 refuses any dataset folder holding a script ("Dataset scripts are no longer supported").
            raise PublishError(f"{rel.as_posix()}: a dataset repo must not hold Python scripts (datasets refuses it)")
        files.append(p)
    return files


def plan(folder: str | os.PathLike, repo_id: str, version: str, *, revision: str = "main") -> PublishPlan:
    """Check ``folder`` and return the operations that publish it as ``repo_id`` at tag ``v<version>``.

    Reads only the local folder (README.md front matter, every file's bytes for its sha256); no network call.
    Remote deletions and the tag-exists check need the hub and are resolved by ``publish``.
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
    configs = _check_configs(root, _front_matter(root))
    files = tuple(
        FileEntry(p.relative_to(root).as_posix(), p.stat().st_size, sha256_file(p)) for p in _local_files(root)
    )
    from .hub import folder_fingerprint

    return PublishPlan(
        folder=root,
        repo_id=repo_id,
        version=version,
        tag=tag,
        revision=revision,
        files=files,
        configs=configs,
        fingerprint=folder_fingerprint(root),
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
        "whose front matter holds `configs:`, plus the parquet files they name), checks it, and uploads every "
        "file in it to the hub dataset repo ORG/NAME: create_repo (if missing), one commit that adds all files "
        "and deletes files on the hub that the folder no longer has, then a tag v<version> on that commit. "
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
