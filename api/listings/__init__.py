"""Edge pieces of the listings API: request schemas and query parameters."""
