"""Hydra sweeper ``hydra/sweeper=optuna``: Optuna 5 trials with pruning, resume and shared storage."""
