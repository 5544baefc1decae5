"""The review's cited literature: its reference list (extract), the papers (fetch) and what the
corpus holds of them (status)."""
