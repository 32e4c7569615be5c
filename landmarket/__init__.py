"""landmarket: the domain core of Chongqing's rural land market platform (pure Python, no I/O)."""

__version__ = "0.1.0"
