"""The HTTP API's shapes (pydantic): requests, public records and responses, by resource."""
