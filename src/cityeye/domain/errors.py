"""Errors that name the field at fault and say why.

Every layer (event ingest, world files, scenario specs) reports bad input the same way,
so a user always sees ``field: reason`` and a batch can carry on past one bad item.
"""

from __future__ import annotations


class FieldError(ValueError):
    """Input rejected because of one field.

    ``field`` is a dotted path into the input (``attrs.level``, ``areas[3].parent``);
    ``reason`` is a sentence a person can act on.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
