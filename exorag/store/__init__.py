"""The index: Chroma for dense vectors and metadata, and a BM25 index kept in step with it."""
