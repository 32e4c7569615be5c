"""The `landmarket` command line: thin commands over the domain and the store."""
