"""Metric definitions, exporters, and the sources of alert rules and dashboards."""
