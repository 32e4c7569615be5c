"""Application services shared by the edges (API, CLI, pages): no web framework imported here."""
