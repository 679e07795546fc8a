"""The top floor: the HTTP app and the `kb` command, both over `kb` and `ingest`."""
