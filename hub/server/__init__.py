"""The listener: one port; each request head is routed to the transport that serves it."""
