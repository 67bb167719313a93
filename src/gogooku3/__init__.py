"""gogooku3: configuration-driven experiments for Japanese equity return prediction.

Data flows one way: data -> quality -> features -> datasets -> models -> training
-> evaluation -> tracking, wired together by :mod:`gogooku3.pipeline`.
"""

__version__ = "0.1.0"
