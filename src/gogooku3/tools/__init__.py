"""Tools over past runs and studies (reproduce, compare, run listing): above pipeline, imported by scripts/."""
