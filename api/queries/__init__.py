"""Read-side SQL used by the API and map routers."""
