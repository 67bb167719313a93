"""Wires the stages together; the only layer that knows all of them."""
