"""Predictors that take plain arrays and hyper-parameters; no tracking, no Hydra."""
