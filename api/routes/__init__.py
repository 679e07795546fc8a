"""The HTTP API's routes, one module per resource; each maps requests to the knowledge base and
its answers to `api.schemas`."""
