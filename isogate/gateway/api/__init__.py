"""The control-plane HTTP routes (``/v1/…``), one module per resource."""
