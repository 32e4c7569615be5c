"""The sample township (Dazu District) and synthetic districts of any size, for demos and benchmarks."""

from __future__ import annotations

from pathlib import Path

from geodata.sample.spec import DEFAULT_SEED, PERSONAL_COLUMNS


def build_sample(out_dir: Path, seed: int = DEFAULT_SEED) -> dict[str, Path | list[Path]]:
    """Generate the sample township into out_dir (township.gpkg, dem.tif, notable.json, txt/)."""
    from geodata.sample.output import write_township
    from geodata.sample.township import build_township

    return write_township(build_township(seed), Path(out_dir))


__all__ = ["DEFAULT_SEED", "PERSONAL_COLUMNS", "build_sample"]
