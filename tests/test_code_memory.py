"""The codes an import has taken: the same answers as a set, in any order, even when every code
has the same hash."""

from __future__ import annotations

import numpy as np
import pytest

from geodata.store.code_memory import CodeMemory, code_hashes


def _codes(numbers) -> np.ndarray:
    return np.array([b"500118101201JA%05d" % n for n in numbers], dtype="S19")


def _one_hash(codes: np.ndarray) -> np.ndarray:
    return np.full(len(codes), 7, dtype=np.uint64)


@pytest.mark.parametrize(
    ("order", "hashes", "size", "first"),
    [
        ("ascending", code_hashes, 90_000, {}),
        ("shuffled", code_hashes, 90_000, {"slots": 16, "room": 4}),  # grows on the way
        ("descending", code_hashes, 30_000, {"slots": 1024, "room": 100}),
        ("interleaved", code_hashes, 30_000, {}),
        ("shuffled", _one_hash, 600, {"slots": 64, "room": 8}),  # every code collides
    ],
)
def test_answers_as_a_set_does(order: str, hashes, size: int, first: dict):
    rng = np.random.default_rng(7)
    numbers = np.arange(0, size, 3)
    if order == "shuffled":
        numbers = rng.permutation(numbers)
    elif order == "descending":
        numbers = numbers[::-1]
    elif order == "interleaved":  # ascending batches, each reaching back among earlier ones
        numbers = np.concatenate([numbers[i::4] for i in range(4)])
    memory, held = CodeMemory(hashes, **first), set()
    for batch in np.array_split(numbers, 17):
        asked = np.concatenate([batch, batch + 1, rng.choice(numbers, 50)])
        expected = np.array([n in held for n in asked])
        assert (memory.taken(_codes(asked)) == expected).all()
        memory.add(_codes(batch))
        held.update(batch.tolist())
        assert len(memory) == len(held)
    assert memory.taken(_codes(numbers)).all()
    assert not memory.taken(_codes(numbers + 1)).any()


def test_hashes_are_never_the_free_mark_and_change_with_any_word():
    codes = _codes(range(1000))
    hashes = code_hashes(codes)
    assert (hashes != 0).all() and len(np.unique(hashes)) == len(codes)
    for at in (0, 8, 16, 18):  # a byte in each 8-byte word the hash reads, and the last
        changed = bytearray(codes[0])
        changed[at] ^= 1
        assert code_hashes(np.array([bytes(changed)], dtype="S19"))[0] != hashes[0]


def test_empty_batches_and_an_empty_memory():
    memory = CodeMemory()
    assert memory.taken(_codes([1, 2])).tolist() == [False, False]
    memory.add(_codes([]))
    assert len(memory) == 0 and memory.taken(_codes([])).tolist() == []
    memory.add(_codes([5]))
    assert memory.taken(_codes([5, 6])).tolist() == [True, False]
