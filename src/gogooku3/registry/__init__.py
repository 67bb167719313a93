"""Model versions on MLflow's registry: aliases, gate 4 promotion, rollback."""
