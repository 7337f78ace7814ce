"""ltc: the science behind ltc-workflow (learn-to-cluster face embeddings).

One module per concept: ``io`` (feature, label and kNN files), ``validate``,
``synthetic`` (demo data), ``download``, ``knn``, ``methods`` (clustering
methods) and ``metrics`` (pairwise / BCubed F-score, NMI).
"""


class DataError(ValueError):
    """Bad input data or configuration; the message is one sentence naming the file and the fix."""


class DownloadError(RuntimeError):
    """A transfer that failed for good; the message names the URL and what to do."""
