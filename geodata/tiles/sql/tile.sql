-- One Mapbox vector tile of one collection, in one statement ending in ST_AsMVT.
--
-- {source} is the collection's trusted SELECT (fid, properties, geom in EPSG:4490, area_mu) with
-- :minx..:maxy bound to the tile envelope plus margin, transformed to EPSG:4490 once per tile so
-- the table's own GiST index answers the bbox test. A tile never drops features silently:
-- when more than :cap features touch it, it holds instead the aggregate layer — count and area
-- in mu per grid cell of every feature whose bounding-box centre lies in the tile — named so.
WITH tile AS MATERIALIZED (  -- computed once, also when the statement is planned generically
    SELECT ST_TileEnvelope(:z, :x, :y) AS env
),
src AS NOT MATERIALIZED (
    {source}
),
counted AS MATERIALIZED (
    SELECT count(*) AS n FROM (SELECT 1 FROM src LIMIT :cap + 1) AS capped
),
-- A feature too small to keep an area at this zoom (it collapses on the 4096 grid) is drawn as
-- a point on its surface rather than dropped.
detail AS (
    SELECT {names},
           coalesce(
               ST_AsMVTGeom(ST_Transform(src.geom, 3857), tile.env, :extent, :buffer, true),
               ST_AsMVTGeom(ST_Transform(ST_PointOnSurface(src.geom), 3857), tile.env,
                            :extent, :buffer, true)
           ) AS geom
    FROM src, tile
    WHERE (SELECT n FROM counted) <= :cap
),
-- Each feature counts in the aggregate cell (level z + 5 of the web-mercator quadtree) holding
-- the centre of its bounding box: u, w in [0, 1) by formula, no projection call, no geometry
-- decoding beyond the stored box. Scaling by a power of two is exact in floating point, so the
-- cell agrees with the level-18 cells stored in parcel_cells (migration 0007) at every zoom.
centres AS (
    SELECT floor(u * :scale)::bigint - :x0 AS cx, floor(w * :scale)::bigint - :y0 AS cy, area_mu
    FROM (
        SELECT ((ST_XMin(b) + ST_XMax(b)) / 2 + 180) / 360 AS u,
               (1 - ln(tan(radians((ST_YMin(b) + ST_YMax(b)) / 2))
                       + 1 / cos(radians((ST_YMin(b) + ST_YMax(b)) / 2))) / pi()) / 2 AS w,
               area_mu
        FROM (SELECT Box2D(src.geom) AS b, src.area_mu FROM src) AS boxes
        WHERE (SELECT n FROM counted) > :cap AND NOT :use_stored
    ) AS uw
),
-- At low zooms a collection with stored cells (parcels) sums those instead of its rows.
stored AS (
    {stored}
),
cells AS (
    SELECT cx, cy, count(*) AS n, sum(area_mu) AS mu FROM centres GROUP BY 1, 2
    UNION ALL
    SELECT cx, cy, sum(n) AS n, sum(area_mu) AS mu FROM stored GROUP BY 1, 2
),
grid AS (
    SELECT ST_MakeEnvelope(cx * :cell_px, cy * :cell_px,
                           (cx + 1) * :cell_px, (cy + 1) * :cell_px) AS geom,
           n::int AS count,
           round(mu::numeric, 4)::float8 AS area_mu
    FROM cells
    WHERE cx >= 0 AND cx < :cells AND cy >= 0 AND cy < :cells AND n > 0
)
-- ST_AsMVT skips rows whose geometry is NULL (outside the tile and its buffer); filtering them
-- here instead would make the planner compute ST_AsMVTGeom twice per row.
SELECT coalesce((SELECT ST_AsMVT(detail.*, :layer, :extent, 'geom', 'fid')
                 FROM detail), ''::bytea)
    || coalesce((SELECT ST_AsMVT(grid.*, :aggregate_layer, :extent, 'geom')
                 FROM grid), ''::bytea) AS tile
