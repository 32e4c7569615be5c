"""The parcel codes a streamed import has taken so far, asked about and added batch by batch.

A sorted array of the codes cost a copy of everything held for each batch inserted among them
(~0.3 s of CPU with the GIL held per 1,000,000 codes). Here the codes are kept in the order they
came and found again through an open-addressing hash table of 64-bit hashes (linear probing,
at most half full), probed for a whole batch at once with numpy: each batch costs time in
proportion to itself, not to the codes held. A code whose hash is in the table is compared byte
for byte with the code stored there, so two codes that share a hash are never taken for one.
"""

from __future__ import annotations

import numpy as np

WIDTH = 19  # bytes of a parcel code (宗地代码)
_EMPTY = np.uint64(0)  # a free slot; a code that hashes to 0 is stored as 1
_SEED, _M1, _M2 = (
    np.uint64(m) for m in (0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB)
)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser (wrapping uint64 arithmetic)."""
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def code_hashes(codes: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each code (S19 array), never 0."""
    padded = np.zeros((len(codes), 24), dtype=np.uint8)
    padded[:, :WIDTH] = np.frombuffer(codes.tobytes(), dtype=np.uint8).reshape(-1, WIDTH)
    words = padded.view("<u8")
    h = _mix(_mix(_mix(words[:, 0] + _SEED) ^ words[:, 1]) ^ words[:, 2])
    h[h == _EMPTY] = 1
    return h


class CodeMemory:
    """Codes held: which of a batch's are among them, and adding a batch's."""

    def __init__(self, hashes=code_hashes, slots: int = 1 << 21, room: int = 1 << 20) -> None:
        """hashes: replaceable so that tests can make codes collide; slots (a power of two)
        and room: the first sizes, for 1,000,000 codes. The system gives the memory zeroed
        when first touched, so a small import touches a few pages of it."""
        self._hash = hashes
        self._slots = np.zeros(slots, dtype=np.uint64)  # hash per slot, 0 when free
        self._at = np.zeros(slots, dtype=np.int64)  # where in _store the slot's code is
        self._store = np.empty(room, dtype=f"S{WIDTH}")  # codes in the order added
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def taken(self, codes: np.ndarray) -> np.ndarray:
        """Mask of codes (S19) already held."""
        found = np.zeros(len(codes), dtype=bool)
        if not self._n or not len(codes):
            return found
        hashes = self._hash(codes)
        mask = np.uint64(len(self._slots) - 1)
        rows = np.arange(len(codes))
        slots = hashes & mask
        while len(rows):
            held = self._slots[slots]
            same = held == hashes[rows]
            if same.any():  # the same hash: the same code?
                hit = rows[same]
                found[hit] = self._store[self._at[slots[same]]] == codes[hit]
            going = (held != _EMPTY) & ~found[rows]  # probe on past other codes
            rows, slots = rows[going], (slots[going] + np.uint64(1)) & mask
        return found

    def add(self, codes: np.ndarray) -> None:
        """Hold these codes (S19) too; none of them is held yet, none repeated."""
        if not len(codes):
            return
        if 2 * (self._n + len(codes)) > len(self._slots):
            self._grow(self._n + len(codes))
        end = self._n + len(codes)
        if end > len(self._store):
            store = np.empty(max(end, 2 * len(self._store)), dtype=self._store.dtype)
            store[: self._n] = self._store[: self._n]
            self._store = store
        self._store[self._n : end] = codes
        self._place(self._hash(codes), np.arange(self._n, end))
        self._n = end

    def _place(self, hashes: np.ndarray, at: np.ndarray) -> None:
        """Put each hash in the first free slot from its own on (of several rows reaching the
        same free slot, the last written there keeps it; the others probe on)."""
        mask = np.uint64(len(self._slots) - 1)
        slots = hashes & mask
        rows = np.arange(len(hashes))
        while len(rows):
            free = self._slots[slots] == _EMPTY
            claimed, claimers = slots[free], rows[free]
            self._at[claimed] = at[claimers]  # a free slot's _at is unused: the claim
            won = self._at[claimed] == at[claimers]
            self._slots[claimed[won]] = hashes[claimers[won]]
            going = ~free
            going[np.flatnonzero(free)[~won]] = True
            rows, slots = rows[going], (slots[going] + np.uint64(1)) & mask

    def _grow(self, need: int) -> None:
        size = len(self._slots)
        while 2 * need > size:
            size *= 2
        self._slots = np.zeros(size, dtype=np.uint64)
        self._at = np.zeros(size, dtype=np.int64)
        if self._n:
            held = self._store[: self._n]
            self._place(self._hash(held), np.arange(self._n))
