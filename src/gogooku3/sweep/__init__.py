"""Optuna sweeps: the Hydra sweeper plugin's engine, the pruning hook and their helpers."""
