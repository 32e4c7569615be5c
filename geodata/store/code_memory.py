"""The parcel codes a streamed import has taken so far, asked about and added batch by batch.

Codes are kept as one sorted array of 19-byte strings (19 MB per 1,000,000 codes). Files are
usually ordered by code, so a batch usually sorts after every code held: it is then appended in
place (the array keeps spare room, doubled as it fills) instead of the whole array being copied
to insert it, which cost ~0.3 s of CPU per 1,000,000 codes.
"""

from __future__ import annotations

import numpy as np

WIDTH = 19  # bytes of a parcel code (宗地代码)


class SortedCodes:
    """Codes held, sorted: which of a batch's are among them, and adding a batch's."""

    def __init__(self) -> None:
        self._room = np.empty(0, dtype=f"S{WIDTH}")
        self._n = 0

    def __len__(self) -> int:
        return self._n

    @property
    def held(self) -> np.ndarray:
        """The codes held, sorted (a view)."""
        return self._room[: self._n]

    def taken(self, codes: np.ndarray) -> np.ndarray:
        """Mask of codes (S19) already held."""
        held = self.held
        if not len(held) or not len(codes):
            return np.zeros(len(codes), dtype=bool)
        at = np.minimum(np.searchsorted(held, codes), len(held) - 1)
        return held[at] == codes

    def add(self, codes: np.ndarray) -> None:
        """Hold these codes (S19) too; none of them is held yet."""
        if not len(codes):
            return
        new = codes if bool((codes[1:] > codes[:-1]).all()) else np.sort(codes)
        held = self.held
        if len(held) and new[0] <= held[-1]:  # among the codes held: insert
            self._room = np.insert(held, np.searchsorted(held, new), new)
            self._n = len(self._room)
            return
        end = self._n + len(new)
        if end > len(self._room):
            room = np.empty(max(end, 2 * len(self._room)), dtype=self._room.dtype)
            room[: self._n] = held
            self._room = room
        self._room[self._n : end] = new
        self._n = end
