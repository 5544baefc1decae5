"""Turning a corpus folder into index chunks: loaders, chunking and the sync with the store."""
