"""Nearest-neighbour search over unit vectors with faiss: exact (flat), HNSW or IVF, by inner product.

Vectors from ``Embedder`` are L2-normalized, so inner product is cosine similarity. ``kind="auto"`` takes the
exact index up to ``exact_max`` vectors: a flat scan of 1,000 queries over 42k x 384 floats takes well under a
second on 2 cores, and exact results need no recall caveat. Above that, HNSW (no training, good recall at a small
``ef_search``); IVF is there for very large sets where memory or build time of HNSW matters.

Reproducibility: flat search is exact and deterministic. IVF k-means is seeded (``seed``) and single-pass
deterministic. HNSW inserts points in parallel, so two builds can differ slightly in their graph (and so in rare
approximate results) unless built with one faiss thread; recall is stable across builds.
"""

from __future__ import annotations

import math
import os

import numpy as np

KINDS = ("flat", "hnsw", "ivf")


def _cpu_count() -> int:
    # Affinity, not os.cpu_count(): a container limited to 2 of the host's 64 cores must not start 64 threads.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _faiss():
    import faiss

    faiss.omp_set_num_threads(_cpu_count())
    return faiss


def _as_matrix(x: np.ndarray, dim: int | None = None, what: str = "vectors") -> np.ndarray:
    a = np.asarray(x, dtype=np.float32)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2:
        raise ValueError(f"{what} must be 2-D (n, dim), got shape {a.shape}")
    if dim is not None and a.shape[1] != dim:
        raise ValueError(f"{what} have dim {a.shape[1]}, the index has {dim}")
    # faiss reads raw float32 rows: a transposed or strided view would be read as garbage without this copy.
    return np.ascontiguousarray(a)


class VectorIndex:
    """A faiss index over ``n`` vectors; ids are row positions (0..n-1) in the array it was built from.

    >>> rng = np.random.default_rng(0)
    >>> v = rng.normal(size=(100, 8)).astype("float32")
    >>> v /= np.linalg.norm(v, axis=1, keepdims=True)
    >>> index = VectorIndex.build(v)
    >>> index.kind, len(index)
    ('flat', 100)
    >>> scores, ids = index.search(v[:2], k=3)
    >>> ids[:, 0].tolist()  # each vector is its own nearest neighbour
    [0, 1]
    """

    def __init__(self, index, kind: str, dim: int, seed: int = 0, quantizer=None) -> None:
        self.index = index
        self.kind = kind
        self.dim = dim
        self.seed = seed
        self._quantizer = quantizer  # IVF: faiss does not own its coarse quantizer, keep it alive here

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def __repr__(self) -> str:
        extra = {"hnsw": f", ef_search={self.ef_search}", "ivf": f", nlist={self.nlist}, nprobe={self.nprobe}"}
        return f"VectorIndex(kind={self.kind!r}, n={len(self)}, dim={self.dim}{extra.get(self.kind, '')})"

    @classmethod
    def build(
        cls,
        vectors: np.ndarray,
        kind: str = "auto",
        exact_max: int = 20000,
        seed: int = 0,
        *,
        hnsw_m: int = 32,
        ef_construction: int = 40,
        ef_search: int = 64,
        nlist: int | None = None,
        nprobe: int = 16,
    ) -> VectorIndex:
        """Index ``vectors`` (n, dim) for inner-product search.

        kind: "flat" (exact), "hnsw" (IndexHNSWFlat, ``hnsw_m`` links, ``ef_search`` at query time), "ivf"
        (IndexIVFFlat, ``nlist`` = 4 * sqrt(n) by default, at most n / 39 so each list gets the 39 training points
        faiss asks for, ``nprobe`` lists searched) or "auto" (flat when n <= ``exact_max``, else hnsw).

        >>> v = np.eye(4, dtype="float32")
        >>> VectorIndex.build(v, kind="hnsw").kind
        'hnsw'
        """
        x = _as_matrix(vectors)
        n, dim = x.shape
        if n == 0:
            raise ValueError("cannot build an index over 0 vectors")
        if kind == "auto":
            kind = "flat" if n <= exact_max else "hnsw"
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS} or 'auto', got {kind!r}")
        faiss = _faiss()
        quantizer = None
        if kind == "flat":
            index = faiss.IndexFlatIP(dim)
        elif kind == "hnsw":
            index = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = ef_construction
            index.hnsw.efSearch = ef_search
        else:
            if nlist is None:
                nlist = max(1, min(int(4 * math.sqrt(n)), n // 39))
            nlist = max(1, min(nlist, n))
            quantizer = faiss.IndexFlatIP(dim)
            index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
            index.cp.seed = seed  # k-means initialisation: the same seed gives the same lists
            index.cp.spherical = True  # unit centroids: inner product to a centroid is then a cosine, like the data
            index.train(x)
            index.nprobe = min(nprobe, nlist)
        index.add(x)
        return cls(index, kind, dim, seed, quantizer)

    @property
    def ef_search(self) -> int | None:
        """HNSW candidate-list size at query time (higher: better recall, slower); None for other kinds."""
        return int(self.index.hnsw.efSearch) if self.kind == "hnsw" else None

    @ef_search.setter
    def ef_search(self, value: int) -> None:
        if self.kind != "hnsw":
            raise AttributeError(f"ef_search applies to hnsw indexes, not {self.kind}")
        self.index.hnsw.efSearch = int(value)

    @property
    def nprobe(self) -> int | None:
        """IVF lists searched per query; None for other kinds."""
        return int(self.index.nprobe) if self.kind == "ivf" else None

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        if self.kind != "ivf":
            raise AttributeError(f"nprobe applies to ivf indexes, not {self.kind}")
        self.index.nprobe = int(value)

    @property
    def nlist(self) -> int | None:
        return int(self.index.nlist) if self.kind == "ivf" else None

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids), each (n_queries, min(k, n)), best first; ids are row positions of the built vectors.

        An approximate index may find fewer than k neighbours for a query: those slots hold id -1 (faiss's
        convention) and a score of about -3.4e38.

        >>> VectorIndex.build(np.eye(3, dtype="float32")).search(np.array([0, 1, 0], dtype="float32"), k=2)[1]
        array([[1, 0]])
        """
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        q = _as_matrix(queries, self.dim, "queries")
        _faiss()
        k = min(k, len(self))
        scores, ids = self.index.search(q, k)
        return scores, ids


def recall_at_k(approx: VectorIndex, exact: VectorIndex, queries: np.ndarray, k: int = 10) -> float:
    """Mean over queries of the fraction of the exact top-k ids that ``approx`` also returns in its top k.

    >>> v = np.random.default_rng(0).normal(size=(500, 16)).astype("float32")
    >>> v /= np.linalg.norm(v, axis=1, keepdims=True)
    >>> recall_at_k(VectorIndex.build(v, kind="hnsw"), VectorIndex.build(v, kind="flat"), v[:50], k=10) > 0.9
    True
    """
    _, truth = exact.search(queries, k)
    _, found = approx.search(queries, k)
    fractions = []
    for t, f in zip(truth, found, strict=True):
        want = set(t[t >= 0].tolist())
        if want:
            fractions.append(len(want & set(f[f >= 0].tolist())) / len(want))
    return float(np.mean(fractions)) if fractions else 1.0
