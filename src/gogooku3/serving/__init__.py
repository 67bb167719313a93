"""The prediction API: stored predictions behind API keys, an audit trail and RED metrics.

Import :func:`gogooku3.serving.app.create_app`; this package file stays light.
"""
