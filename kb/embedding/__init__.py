"""Sentence embeddings: the embedder interface, the torch backend, and the int8 ONNX model and
its export. Imports nothing from the store's SQL, search or packs.
"""
