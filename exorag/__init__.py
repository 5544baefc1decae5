"""exorag."""

import os

# PyTorch's OpenMP threads otherwise spin for a while after every operation, taking both cores
# from Chroma, BM25 and the web server between the small embedding calls of a query (on 2 cores a
# 10,000-chunk retrieval p95 went from 1,100 ms to 35 ms). Read once, when torch loads, so it only
# takes effect when exorag is imported before torch.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
