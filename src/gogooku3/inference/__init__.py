"""Production inference: load a deployed model under gate 5, predict a session, ensemble, confidence, realized scoring."""
