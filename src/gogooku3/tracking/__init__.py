"""Everything that leaves the process: MLflow runs, plots, lineage. Imports mlflow lazily."""
