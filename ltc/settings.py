"""Documented settings fields: the one place a setting's default, meaning and unit are written, as a
field of a frozen dataclass (a method's ``Params``, :mod:`ltc.methods.registry`; the kNN graph's
``Settings``, :mod:`ltc.knn`). Imports nothing heavy: every rule's code inputs may include it."""
from __future__ import annotations

import copy
import dataclasses


def setting(default, doc: str, example=None):
    """A documented ``Params`` field: ``default`` is the setting's one default, ``doc`` says what it
    means with its unit; ``example``, for a threshold, a value to quote when one must be given (the
    original project's MS1M value; the ``ms1m`` entries of config.yaml carry the same, by test).
    A nested ``Params`` or a list default is given as a default factory (a list: a fresh copy each time)."""
    metadata = {"doc": doc, **({"example": example} if example is not None else {})}
    if dataclasses.is_dataclass(default):
        return dataclasses.field(default_factory=lambda: default, metadata=metadata)
    if isinstance(default, list):
        return dataclasses.field(default_factory=lambda: copy.deepcopy(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)
