"""Moved to :mod:`cityeye.live.pipeline` (issue 15: the live runtime has its own
package). This name keeps working for code written against it; it will be removed
after the next release — import from ``cityeye.live.pipeline``."""

import warnings

from cityeye.live.pipeline import LivePipeline as LivePipeline
from cityeye.live.pipeline import Pipeline
from cityeye.live.pipeline import resume as resume

#: Renamed ``Pipeline`` in issue 16 (``Intake`` is now the ingest channels' protocol).
Intake = Pipeline

warnings.warn("cityeye.pipeline moved to cityeye.live.pipeline", DeprecationWarning, stacklevel=2)
