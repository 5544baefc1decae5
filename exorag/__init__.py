"""exorag."""
