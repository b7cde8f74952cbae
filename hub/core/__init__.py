"""The hub's model: namespaces, sessions, rooms and delivery. No sockets here."""
