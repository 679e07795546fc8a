"""The FAISS cache of passage vectors: the index, its file, keeping it in step with the store,
and its recall. Imports the store's protocol.
"""
