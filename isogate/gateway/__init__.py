"""The ASGI gateway: app factory, auth, control-plane API, invoke routes, metrics, CLI."""
