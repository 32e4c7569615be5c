"""Consolidation plans in PostGIS: tables, village inputs, the repository behind the API, exports."""
