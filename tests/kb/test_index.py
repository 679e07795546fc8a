from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kb.index import HEADER_NAME, INDEX_NAME, VectorIndex


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
    ("generation", "dimension", "count"), [(8, 16, 50), (7, 32, 50), (7, 16, 49)]
)
def test_load_refuses_a_stale_index(
    tmp_path: Path, generation: int, dimension: int, count: int
) -> None:
    VectorIndex.build(np.arange(50, dtype=np.int64), unit_vectors(50), generation=7).save(tmp_path)
    assert VectorIndex.load(tmp_path, generation, dimension, count) is None


def test_load_refuses_corrupt_or_missing_files(tmp_path: Path) -> None:
    assert VectorIndex.load(tmp_path, 0, 16, 0) is None
    VectorIndex.build(np.arange(50, dtype=np.int64), unit_vectors(50), generation=7).save(tmp_path)
    data = bytearray((tmp_path / INDEX_NAME).read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte in the vectors
    (tmp_path / INDEX_NAME).write_bytes(bytes(data))
    assert VectorIndex.load(tmp_path, 7, 16, 50) is None
    (tmp_path / HEADER_NAME).write_text("{not json")
    assert VectorIndex.load(tmp_path, 7, 16, 50) is None


def test_save_leaves_no_temporary_files(tmp_path: Path) -> None:
    VectorIndex.build(np.arange(5, dtype=np.int64), unit_vectors(5), generation=1).save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([HEADER_NAME, INDEX_NAME])
