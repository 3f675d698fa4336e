"""Names in both languages (中文 English), said once: in the enum member itself.

A case's state, a severity, a move, a role … is shown to people by name, Chinese
first. Each such enum is a :class:`Labelled` one, and each member is written with its
value and its two names::

    class Severity(Labelled):
        LOW = "low", "低", "low"

so ``Severity.LOW.zh == "低"``, ``.en == "low"`` and ``.label == "低 low"``, while the
member is still the plain string ``"low"`` everywhere else (JSON, the database,
``Severity("low")``). No lookup table restates the names beside the enum; the API's
``GET /api/v1/meta`` serves them from here to the pages, which keep no copy either.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self


class Labelled(StrEnum):
    """A string enum whose members carry their Chinese and English names."""

    _value_: str
    _zh: str
    _en: str

    # the names default to "" only for the type checker, which reads this signature
    # for a lookup such as Severity("low") too; a member defined without them fails
    # as the module is imported
    def __new__(cls, value: str, zh: str = "", en: str = "") -> Self:
        if not (zh and en):
            raise ValueError(f"{cls.__name__} {value!r}: give its Chinese and English names")
        member = str.__new__(cls, value)
        member._value_ = value
        member._zh = zh
        member._en = en
        return member

    @property
    def zh(self) -> str:
        """The Chinese name: ``已派遣``."""
        return self._zh

    @property
    def en(self) -> str:
        """The English name: ``Dispatched``."""
        return self._en

    @property
    def label(self) -> str:
        """Chinese first, English beside it: ``已派遣 Dispatched``."""
        return f"{self._zh} {self._en}"
