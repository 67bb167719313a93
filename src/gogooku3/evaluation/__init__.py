"""Pure functions of predictions and targets: no I/O, no tracking."""
