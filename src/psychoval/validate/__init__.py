"""validate layer."""

__all__: list[str] = []
