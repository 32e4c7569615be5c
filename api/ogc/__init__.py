"""OGC API - Features (Part 1 core, GeoJSON; Part 2 CRS) over the platform's tables, framework-free."""
