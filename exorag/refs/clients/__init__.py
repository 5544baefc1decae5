"""One module per literature service, and the polite HTTP client they share."""
