"""Document metadata: the schema of fields by type, the bounds on metadata, and filters over
metadata with the keys they may name.
"""
