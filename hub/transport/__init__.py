"""Per-connection I/O: the byte pipe with its eager path, and the WebSocket connection."""
