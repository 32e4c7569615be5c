"""Pydantic request and response models of the API (shown in /docs)."""
