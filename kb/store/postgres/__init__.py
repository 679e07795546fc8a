"""The PostgreSQL dialect: its connections, its SQL statements and its schema. A leaf: imports
nothing from the other dialect.
"""
