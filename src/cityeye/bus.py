"""Moved to :mod:`cityeye.live.bus` (issue 15: the live runtime has its own package).
This name keeps working for code written against it; it will be removed after the next
release — import from ``cityeye.live.bus``."""

import warnings

from cityeye.live.bus import BusError as BusError
from cityeye.live.bus import BusPipeline as BusPipeline
from cityeye.live.bus import Worker as Worker

warnings.warn("cityeye.bus moved to cityeye.live.bus", DeprecationWarning, stacklevel=2)
