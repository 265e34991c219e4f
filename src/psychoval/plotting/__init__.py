"""plotting layer."""

__all__: list[str] = []
