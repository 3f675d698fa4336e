"""cityeye — 城市眼·云共治: grassroots urban co-governance.

Perception (城市眼) turns device and resident signals into events; analysis (云) turns
events into early warnings (预警); co-governance (共治) turns warnings into cases that
many parties handle in a closed loop, measured by 处置率 and 共治率.
"""

__version__ = "0.1.0"
