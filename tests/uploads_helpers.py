"""Zip bombs made cheaply in tests: a deflate stream of zeros built from one repeated block."""

from __future__ import annotations

import struct
import zlib
from functools import lru_cache

MIB = 1 << 20


@lru_cache
def deflated_zeros(mib: int) -> tuple[bytes, int]:
    """(raw deflate stream, CRC-32) of mib MiB of zero bytes, about 1 kB on disk per MiB."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = comp.compress(bytes(MIB)) + comp.flush(zlib.Z_FULL_FLUSH)  # byte-aligned, no history
    stream = block * mib + comp.flush()
    crc, zeros = 0, bytes(MIB)
    for _ in range(mib):
        crc = zlib.crc32(zeros, crc)
    return stream, crc


def zip_of(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip of already-deflated members (name, data, crc, declared size), headers as given."""
    out, central = b"", b""
    for name, data, crc, size in members:
        raw = name.encode()
        offset = len(out)
        head = (0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), size, len(raw), 0)
        out += struct.pack("<IHHHHHIIIHH", *head) + raw + data
        entry = (0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(data), size, len(raw), 0, 0, 0, 0, 0)
        central += struct.pack("<IHHHHHHIIIHHHHHII", *entry, offset) + raw
    end = (0x06054B50, 0, 0, len(members), len(members), len(central), len(out), 0)
    return out + central + struct.pack("<IHHHHIIH", *end)


def zero_bomb(mib: int, name: str = "bomb.geojson", declared: int | None = None) -> bytes:
    """A one-member zip that unpacks to mib MiB of zeros (declared size overridable: a liar)."""
    data, crc = deflated_zeros(mib)
    return zip_of([(name, data, crc, mib * MIB if declared is None else declared)])


def stored_zip(members: dict[str, bytes]) -> bytes:
    """An ordinary deflated zip of name → bytes."""
    out = []
    for name, body in members.items():
        comp = zlib.compressobj(6, zlib.DEFLATED, -15)
        out.append((name, comp.compress(body) + comp.flush(), zlib.crc32(body), len(body)))
    return zip_of(out)
