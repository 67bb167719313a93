"""Fitting procedures: turn a Panel and a Fold into a fitted estimator and predictions."""
