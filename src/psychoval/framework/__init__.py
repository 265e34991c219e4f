"""framework layer."""

__all__: list[str] = []
