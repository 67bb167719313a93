"""Built-in feature groups: one module each; :mod:`gogooku3.features.registry` names them.

This package imports nothing of the registry, so imports point one way (registry -> groups).
"""
