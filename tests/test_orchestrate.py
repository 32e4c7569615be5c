"""One screening path: the same report with 1, 2 workers, forked or sent, and on a dask cluster;
killed workers lose no parcel; a cancelled run stops."""

from __future__ import annotations

import os
import signal

import pandas as pd
import pytest

from geodata.screening.executors import LocalExecutor, ScreeningCancelled
from geodata.screening.orchestrate import Collect, orchestrate, screen_partitioned
from landmarket.eligibility import ConstraintContext
from landmarket.screening import screen
from landmarket.sources import LayerSource
from tests.test_partition import POLICY, district  # noqa: F401  (module fixture)

CHUNK = 400


@pytest.fixture(scope="module")
def expected(district):  # noqa: F811
    """One single-process screen call over the whole context."""
    parcels, layers, land, dem = district
    context = ConstraintContext.build(**layers, parcels=land, dem=dem)
    return screen(parcels, context, policy=POLICY)


@pytest.fixture(scope="module")
def source(district):  # noqa: F811
    parcels, layers, land, dem = district
    return LayerSource(**layers, parcels=land, dem=dem)


def _sent_executor(workers: int) -> LocalExecutor:
    """Spawned workers: every task carries its GeoParquet partition and context subset."""
    runner = LocalExecutor(workers)
    runner.inherits = False
    runner._context = __import__("multiprocessing").get_context("spawn")
    return runner


@pytest.mark.parametrize("workers", [1, 2])
def test_local_workers_equal_one_screen(district, source, expected, workers):  # noqa: F811
    got = screen_partitioned(district[0], source, policy=POLICY, workers=workers, chunk_size=CHUNK)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_sent_partitions_equal_one_screen(district, source, expected):  # noqa: F811
    collect = Collect()
    stats = orchestrate(
        district[0], source, policy=POLICY, sink=collect, executor=_sent_executor(2),
        chunk_size=CHUNK,
    )  # fmt: skip
    assert stats.sent_bytes > 0 and stats.chunks == len(collect.parts)
    pd.testing.assert_frame_equal(collect.frame(), expected, check_exact=True)


def test_dask_local_cluster_equals_one_screen(district, source, expected):  # noqa: F811
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        got = screen_partitioned(
            district[0], source, policy=POLICY, client=client, chunk_size=CHUNK
        )
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
        # A worker killed while chunks run: the scheduler runs its tasks elsewhere.
        pids = list(client.run(os.getpid).values())
        killed = []

        def kill_one(k, positions, rows):
            collect(k, positions, rows)
            if not killed:
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])

        collect = Collect()
        orchestrate(
            district[0], source, policy=POLICY, sink=kill_one, client=client, chunk_size=CHUNK
        )
        assert killed
        pd.testing.assert_frame_equal(collect.frame(), expected, check_exact=True)


def test_local_worker_killed_mid_run_loses_no_parcel(district, source, expected):  # noqa: F811
    runner = LocalExecutor(2)
    killed = []
    collect = Collect()

    def kill_one(k, positions, rows):
        collect(k, positions, rows)
        if not killed:
            os.kill(runner.pids[0], signal.SIGKILL)
            killed.append(runner.pids[0])

    orchestrate(
        district[0], source, policy=POLICY, sink=kill_one, executor=runner, chunk_size=CHUNK
    )
    assert killed
    pd.testing.assert_frame_equal(collect.frame(), expected, check_exact=True)


def test_cancelled_run_stops_before_the_end(district, source):  # noqa: F811
    collect = Collect()
    with pytest.raises(ScreeningCancelled):
        orchestrate(
            district[0], source, policy=POLICY, sink=collect, workers=2, chunk_size=CHUNK,
            cancelled=lambda: len(collect.parts) >= 1,
        )  # fmt: skip
    assert 1 <= len(collect.parts) < 8


@pytest.mark.parametrize("workers", [1, 2])
def test_streamed_report_files_equal_the_whole_report(
    district,  # noqa: F811
    source,
    expected,
    tmp_path,
    workers,
):
    """Chunks formatted by the workers, written as they finish, merged back: the CSV (byte for
    byte) and the GeoPackage (fields, types, rows, geometry) one whole-frame write gives."""
    import pyogrio

    from geodata.screening.reports import write_reports
    from geodata.screening.runner import run_screen

    parcels = district[0].reset_index(drop=True)
    result = run_screen(
        parcels, source, tmp_path / "out", POLICY, site_only=False, workers=workers,
        chunk_size=CHUNK,
    )  # fmt: skip
    assert result.stats.chunks > 4
    whole = write_reports(parcels, expected.reset_index(drop=True), tmp_path / "whole", {})
    assert result.paths["csv"].read_bytes() == whole["csv"].read_bytes()
    a = pyogrio.read_dataframe(whole["gpkg"], fid_as_index=True)
    b = pyogrio.read_dataframe(result.paths["gpkg"], fid_as_index=True)
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
    assert (a.geometry.to_wkb() == b.geometry.to_wkb()).all()
    info_a, info_b = pyogrio.read_info(whole["gpkg"]), pyogrio.read_info(result.paths["gpkg"])
    assert list(info_a["fields"]) == list(info_b["fields"])
    assert list(info_a["dtypes"]) == list(info_b["dtypes"])
    assert info_a["geometry_type"] == info_b["geometry_type"]
    assert result.summary["parcels"] == len(parcels)
    assert not list((tmp_path / "out").glob(".chunks-*"))  # the chunk files are gone


@pytest.fixture(scope="module")
def parcel_file(district, tmp_path_factory):  # noqa: F811
    """The district's parcels as a GeoPackage layer (with a second layer, as districts are)."""
    from geodata.screening.partitions import ParcelFile

    path = tmp_path_factory.mktemp("file") / "parcels.gpkg"
    parcels = district[0].reset_index(drop=True).rename(columns={"land_use": "land_use_code"})
    parcels.to_file(path, layer="parcels", driver="GPKG")
    parcels.iloc[:1].to_file(path, layer="other", driver="GPKG")
    return ParcelFile.of(path)


@pytest.fixture(scope="module")
def file_expected(district, parcel_file):  # noqa: F811
    """One screen call over the file read whole, its own parcels as land use."""
    whole = parcel_file.whole()
    _, layers, _, dem = district
    context = ConstraintContext.build(**layers, parcels=whole[["land_use", "geometry"]], dem=dem)
    return screen(whole, context, policy=POLICY)


@pytest.fixture(scope="module")
def file_source(district):  # noqa: F811
    _, layers, _, dem = district
    return LayerSource(**layers, dem=dem, land_from_parcels=True)


@pytest.mark.parametrize("workers", [1, 2])
def test_streamed_file_equals_one_screen(parcel_file, file_source, file_expected, workers):
    """Workers read their chunk, halo and land use from the file: the report is unchanged."""
    assert parcel_file is not None and parcel_file.layer == "parcels"
    collect = Collect()
    stats = orchestrate(
        parcel_file, file_source, policy=POLICY, sink=collect, workers=workers, chunk_size=CHUNK
    )
    assert stats.parcels == len(file_expected) and stats.chunks > 4
    pd.testing.assert_frame_equal(collect.frame(), file_expected, check_exact=True)


def test_streamed_file_sent_and_on_dask_equal_one_screen(
    parcel_file, file_source, file_expected, tmp_path
):
    """Spawned workers (context cut here, land use read there) and a dask cluster (whose
    workers also format the report parts: the same CSV)."""
    from distributed import Client, LocalCluster

    collect = Collect()
    orchestrate(
        parcel_file, file_source, policy=POLICY, sink=collect, executor=_sent_executor(2),
        chunk_size=CHUNK,
    )  # fmt: skip
    pd.testing.assert_frame_equal(collect.frame(), file_expected, check_exact=True)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        collect = Collect()
        stats = orchestrate(
            parcel_file, file_source, policy=POLICY, sink=collect, client=client,
            chunk_size=CHUNK,
        )  # fmt: skip
        assert stats.sent_bytes > 0  # a cluster's workers get the rows, not a local path
        pd.testing.assert_frame_equal(collect.frame(), file_expected, check_exact=True)
        from geodata.screening.reports import writable
        from geodata.screening.runner import run_screen

        result = run_screen(
            parcel_file, file_source, tmp_path / "out", POLICY, site_only=False,
            scheduler=cluster.scheduler_address, chunk_size=CHUNK,
        )  # fmt: skip
        assert result.stats.executor == "DaskExecutor"
        whole = tmp_path / "whole.csv"
        writable(file_expected.reset_index(drop=True)).to_csv(whole, index=False, encoding="utf-8")
        assert result.paths["csv"].read_bytes() == whole.read_bytes()


def test_streamed_file_report_equals_the_frame_report(
    parcel_file, file_source, file_expected, tmp_path
):
    """run_screen on the file writes the CSV a whole-frame write gives, and the same bounds."""
    from geodata.screening.reports import writable
    from geodata.screening.runner import run_screen

    result = run_screen(
        parcel_file, file_source, tmp_path / "out", POLICY, site_only=False, workers=2,
        chunk_size=CHUNK,
    )  # fmt: skip
    whole = tmp_path / "whole.csv"
    writable(file_expected.reset_index(drop=True)).to_csv(whole, index=False, encoding="utf-8")
    assert result.paths["csv"].read_text("utf-8") == whole.read_text("utf-8")
    # the GeoPackage written as the workers' parts arrived (their geometries read by fid)
    import pyogrio

    from geodata.screening.reports import write_reports

    parcels = parcel_file.whole().reset_index(drop=True)
    written = write_reports(parcels, file_expected.reset_index(drop=True), tmp_path / "w", {})
    a = pyogrio.read_dataframe(written["gpkg"], fid_as_index=True)
    b = pyogrio.read_dataframe(result.paths["gpkg"], fid_as_index=True)
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
    assert (a.geometry.to_wkb() == b.geometry.to_wkb()).all()
    assert list(pyogrio.read_info(written["gpkg"])["dtypes"]) == list(
        pyogrio.read_info(result.paths["gpkg"])["dtypes"]
    )
    box = parcel_file.whole().total_bounds
    assert result.summary["bounds"] == [round(float(v), 6) for v in box]
