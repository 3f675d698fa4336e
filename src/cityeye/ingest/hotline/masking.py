"""Masking phone and ID-card numbers: a caller's number is never stored whole.

The hotline import masks the phone column and the numbers inside free text, in events
and in dead letters alike; the Open311 endpoint (``cityeye.api.open311``) masks what
citizens post with the same two functions, so the rule is written once, here.
"""

from __future__ import annotations

import re

_ID_CARD = re.compile(r"(?<![0-9Xx])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9Xx])")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)[- ]?\d{4}[- ]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[- ]?\d{3,4}(\d{4})(?!\d)")
_PHONE_SPLIT = re.compile(r"[,;/，；、|]+")


def mask_phone(value: str) -> str | None:
    """``13812341234`` → ``138****1234``; several numbers in one cell each masked. The
    full number is never returned; ``None`` when the cell holds no digits."""
    masked = []
    for part in _PHONE_SPLIT.split(value):
        digits = re.sub(r"\D", "", part)
        if len(digits) == 13 and digits.startswith("86"):
            digits = digits[2:]
        n = len(digits)
        if n == 0:
            continue
        if n >= 8:
            masked.append(digits[:3] + "*" * (n - 7) + digits[-4:])
        elif n >= 4:
            masked.append("*" * (n - 2) + digits[-2:])
        else:
            masked.append("*" * n)
    return ", ".join(masked) or None


def mask_numbers(text: str) -> str:
    """Mask ID-card, mobile and landline numbers inside free text."""
    text = _ID_CARD.sub(r"\1********\2", text)
    text = _MOBILE.sub(r"\1****\2", text)
    return _LANDLINE.sub(r"\1-****\2", text)
