from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kb.vectors.index import HNSW, AnnParams, VectorIndex
from kb.vectors.index_file import HEADER_NAME, INDEX_NAME, saved_generation


def unit_vectors(count: int, dimension: int = 16, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(count, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_top_k_equals_numpy_brute_force() -> None:
    vectors = unit_vectors(500)
    ids = np.arange(1000, 1500, dtype=np.int64)
    index = VectorIndex.build(ids, vectors, generation=1)
    queries = unit_vectors(5, seed=1)
    scores, found = index.search(queries, 10)
    oracle = queries @ vectors.T
    for row in range(5):
        expected = ids[np.argsort(-oracle[row])[:10]]
        assert list(found[row]) == list(expected)
        assert np.allclose(scores[row], np.sort(oracle[row])[::-1][:10], atol=1e-5)


def test_allowed_ids_restrict_candidates_exactly() -> None:
    vectors = unit_vectors(200)
    ids = np.arange(200, dtype=np.int64)
    index = VectorIndex.build(ids, vectors, generation=1)
    allowed = np.array([3, 50, 77, 199], dtype=np.int64)
    _, found = index.search(unit_vectors(1, seed=2), 10, allowed)
    assert set(found[0][found[0] >= 0]) == set(allowed)
    _, none = index.search(unit_vectors(1, seed=2), 10, np.array([], dtype=np.int64))
    assert none.shape == (1, 0)


def test_remove_drops_ids() -> None:
    index = VectorIndex.build(np.arange(10, dtype=np.int64), unit_vectors(10), generation=1)
    index.remove(np.array([2, 3], dtype=np.int64))
    assert len(index) == 8
    _, found = index.search(unit_vectors(1, seed=5), 10)
    assert not {2, 3} & set(found[0].tolist())


def test_save_then_load_round_trips(tmp_path: Path) -> None:
    vectors = unit_vectors(50)
    index = VectorIndex.build(np.arange(50, dtype=np.int64), vectors, generation=7)
    index.save(tmp_path)
    loaded = VectorIndex.load(tmp_path, generation=7, dimension=16, count=50)
    assert loaded is not None and len(loaded) == 50
    query = unit_vectors(1, seed=3)
    assert (loaded.search(query, 5)[1] == index.search(query, 5)[1]).all()


@pytest.mark.parametrize(
    ("generation", "dimension", "count", "stamp"),
    [
        (6, 16, 50, ""),
        (7, 32, 50, ""),
        (7, 16, 49, ""),
        (7, 16, 50, "re-embedded"),
        (9, 16, 50, "re-embedded"),
    ],
)
def test_load_refuses_a_stale_index(
    tmp_path: Path, generation: int, dimension: int, count: int, stamp: str
) -> None:
    """Ahead of the store, another dimension, another count at the same generation, or
    another set of vectors (stamp) than the store's: stale."""
    VectorIndex.build(np.arange(50, dtype=np.int64), unit_vectors(50), generation=7).save(tmp_path)
    assert VectorIndex.load(tmp_path, generation, dimension, count, stamp=stamp) is None


def test_load_accepts_an_index_behind_the_store_as_it_was_saved(tmp_path: Path) -> None:
    """The caller catches it up (kb.vectors.index_cache); the store's count is then no check."""
    index = VectorIndex.build(np.arange(50, dtype=np.int64), unit_vectors(50), generation=7)
    index.stamp = "s1"
    index.save(tmp_path)
    assert saved_generation(tmp_path) == 7
    loaded = VectorIndex.load(tmp_path, generation=12, dimension=16, count=80, stamp="s1")
    assert loaded is not None and (loaded.generation, len(loaded), loaded.stamp) == (7, 50, "s1")


def test_load_refuses_corrupt_or_missing_files(tmp_path: Path) -> None:
    assert VectorIndex.load(tmp_path, 0, 16, 0) is None
    VectorIndex.build(np.arange(50, dtype=np.int64), unit_vectors(50), generation=7).save(tmp_path)
    data = bytearray((tmp_path / INDEX_NAME).read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte in the vectors
    (tmp_path / INDEX_NAME).write_bytes(bytes(data))
    assert VectorIndex.load(tmp_path, 7, 16, 50) is None
    assert VectorIndex.load(tmp_path, 9, 16, 60) is None  # behind the store: still checked
    (tmp_path / HEADER_NAME).write_text("{not json")
    assert VectorIndex.load(tmp_path, 7, 16, 50) is None
    assert saved_generation(tmp_path) is None


def test_save_leaves_no_temporary_files(tmp_path: Path) -> None:
    VectorIndex.build(np.arange(5, dtype=np.int64), unit_vectors(5), generation=1).save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([HEADER_NAME, INDEX_NAME])


# -- the approximate kind ---------------------------------------------------------------------


def hnsw(count: int, exact_filter_max: int = 20_000, dimension: int = 32) -> VectorIndex:
    params = AnnParams(m=16, ef_construction=64, ef_search=64, exact_filter_max=exact_filter_max)
    vectors = unit_vectors(count, dimension)
    return VectorIndex.build(np.arange(count, dtype=np.int64), vectors, 1, HNSW, params)


def brute_force(vectors: np.ndarray, query: np.ndarray, ids: np.ndarray, k: int) -> list[int]:
    return ids[np.argsort(-(vectors[ids] @ query))[:k]].tolist()


def test_hnsw_finds_nearly_all_of_the_exact_top_ten() -> None:
    index, vectors = hnsw(2000), unit_vectors(2000, 32)
    queries = unit_vectors(20, 32, seed=9)
    _, found = index.search(queries, 10)
    every = np.arange(2000)
    hits = sum(
        len(set(f) & set(brute_force(vectors, q, every, 10)))
        for f, q in zip(found, queries, strict=True)
    )
    assert hits / 200 >= 0.9
    assert index.kind == HNSW and len(index) == 2000


@pytest.mark.parametrize("exact_filter_max", [20_000, 0])
def test_hnsw_with_a_small_allowed_set_returns_exactly_its_best(exact_filter_max: int) -> None:
    """Exact over the allowed ids below the threshold; the graph with an IDSelector above it
    still returns nothing else (a graph search may miss some of a tiny set, hence the fallback)."""
    index, vectors = hnsw(2000, exact_filter_max), unit_vectors(2000, 32)
    allowed = np.array([5, 400, 1999, 1234, 77, 901, 3, 1500], dtype=np.int64)
    query = unit_vectors(1, 32, seed=4)
    scores, found = index.search(query, 5, allowed)
    kept = [int(i) for i in found[0] if i >= 0]
    assert set(kept) <= set(allowed.tolist())
    if exact_filter_max:
        assert kept == brute_force(vectors, query[0], allowed, 5)
        assert np.allclose(scores[0], np.sort(vectors[allowed] @ query[0])[::-1][:5], atol=0.02)
        _, all_of_them = index.search(query, 50, allowed)
        assert sorted(all_of_them[0].tolist()) == sorted(allowed.tolist())


def test_hnsw_masks_removed_ids_and_unmasks_them_when_added_back() -> None:
    index = hnsw(300)
    query = unit_vectors(300, 32)[10:11]  # the stored vector of id 10: its own best match
    assert index.search(query, 1)[1][0][0] == 10
    index.remove(np.array([10, 11, 12, 99999], dtype=np.int64))  # 99999 was never there
    assert (len(index), index.dead) == (297, 3)
    assert not {10, 11, 12} & set(index.ids().tolist())
    for allowed in (None, np.array([10, 11, 13], dtype=np.int64)):
        _, found = index.search(query, 50, allowed)
        assert not {10, 11, 12} & set(found[0].tolist())
    index.add(np.array([10], dtype=np.int64), unit_vectors(300, 32)[10:11])
    assert (len(index), index.dead) == (298, 2)
    assert index.search(query, 1)[1][0][0] == 10


def test_hnsw_save_then_load_keeps_kind_and_masked_ids(tmp_path: Path) -> None:
    index = hnsw(300)
    index.remove(np.array([1, 2], dtype=np.int64))
    index.save(tmp_path)
    loaded = VectorIndex.load(tmp_path, generation=1, dimension=32, count=298)
    assert loaded is not None and loaded.kind == HNSW and loaded.dead == 2
    query = unit_vectors(3, 32, seed=8)
    assert (loaded.search(query, 10)[1] == index.search(query, 10)[1]).all()
    assert not {1, 2} & set(loaded.ids().tolist())


def test_a_corrupt_hnsw_file_is_refused(tmp_path: Path) -> None:
    hnsw(300).save(tmp_path)
    data = bytearray((tmp_path / INDEX_NAME).read_bytes())
    data[len(data) // 3] ^= 0xFF
    (tmp_path / INDEX_NAME).write_bytes(bytes(data))
    assert VectorIndex.load(tmp_path, 1, 32, 300) is None
    (tmp_path / INDEX_NAME).write_bytes(bytes(data[: len(data) // 2]))
    assert VectorIndex.load(tmp_path, 1, 32, 300) is None


@pytest.mark.parametrize("kind", ["exact", HNSW])
def test_a_kept_selection_follows_changes_to_the_index(kind: str) -> None:
    """A filter's selector is kept under its key, and made again once the index changed: a
    passage added or removed since is found, or not, as the allowed ids say."""
    vectors = unit_vectors(400, 32)
    params = AnnParams(m=16, ef_construction=64, ef_search=64, exact_filter_max=0)
    index = VectorIndex.build(np.arange(300, dtype=np.int64), vectors[:300], 1, kind, params)
    allowed = np.array([3, 30, 300], dtype=np.int64)  # 300 is not in the index yet
    query = vectors[300:301]
    _, found = index.search(query, 3, allowed, key="f")
    assert set(found[0].tolist()) - {-1} == {3, 30}
    index.add(np.array([300], dtype=np.int64), vectors[300:301])
    _, found = index.search(query, 3, allowed, key="f")
    assert found[0][0] == 300
    index.remove(np.array([300], dtype=np.int64))
    _, found = index.search(query, 3, allowed, key="f")
    assert 300 not in found[0].tolist()
