"""The codes an import has taken: the same answers as a set, whether batches come in order."""

from __future__ import annotations

import numpy as np
import pytest

from geodata.store.code_memory import SortedCodes


def _codes(numbers) -> np.ndarray:
    return np.array([b"500118101201JA%05d" % n for n in numbers], dtype="S19")


@pytest.mark.parametrize("order", ["ascending", "shuffled", "descending", "interleaved"])
def test_answers_as_a_set_does(order: str):
    rng = np.random.default_rng(7)
    numbers = np.arange(0, 30_000, 3)
    if order == "shuffled":
        numbers = rng.permutation(numbers)
    elif order == "descending":
        numbers = numbers[::-1]
    elif order == "interleaved":  # ascending batches, each reaching back among earlier ones
        numbers = np.concatenate([numbers[i::4] for i in range(4)])
    memory, held = SortedCodes(), set()
    for batch in np.array_split(numbers, 17):
        asked = np.concatenate([batch, batch + 1, rng.choice(numbers, 50)])
        expected = np.array([n in held for n in asked])
        assert (memory.taken(_codes(asked)) == expected).all()
        memory.add(_codes(batch))
        held.update(batch.tolist())
        assert len(memory) == len(held)
        assert (memory.held[1:] > memory.held[:-1]).all()  # sorted, each once
    assert memory.taken(_codes(numbers)).all()
    assert not memory.taken(_codes(numbers + 1)).any()


def test_empty_batches_and_an_empty_memory():
    memory = SortedCodes()
    assert memory.taken(_codes([1, 2])).tolist() == [False, False]
    memory.add(_codes([]))
    assert len(memory) == 0 and memory.taken(_codes([])).tolist() == []
    memory.add(_codes([5]))
    assert memory.taken(_codes([5, 6])).tolist() == [True, False]
