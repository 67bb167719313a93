"""From a feature panel and targets to model-ready data: targets, splits, normalization."""
