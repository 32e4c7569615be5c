"""Listings in PostGIS: tables, the repository behind the API, search, sample listings."""
