"""Errors that name the field at fault and say why.

Every layer (event ingest, world files, scenario specs) reports bad input the same way,
so a user always sees ``field: reason`` and a batch can carry on past one bad item.
:class:`FieldError` is defined with the rest of cityeye's errors in :mod:`cityeye.errors`
(an :class:`~cityeye.errors.InputError`, still a :class:`ValueError`); the domain's
name for it stays here.
"""

from __future__ import annotations

from cityeye.errors import FieldError

__all__ = ["FieldError"]
