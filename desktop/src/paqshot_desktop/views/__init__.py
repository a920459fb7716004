"""Widgets. Views take plain data and emit signals; they never do I/O or talk to the server."""
