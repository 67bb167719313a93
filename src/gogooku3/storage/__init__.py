"""Ground floor: object store, OLAP, cache and prediction store interfaces with their backends."""
