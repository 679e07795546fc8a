"""The SQLite dialect: its connections and its SQL statements. A leaf: imports nothing from the
other dialect.
"""
