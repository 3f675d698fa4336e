"""12345 hotline import: a CSV or XLSX export of tickets → ``report.hotline`` events.

``cityeye import hotline FILE --mapping MAP.yaml`` reads a hotline export with a
mapping file that says which column holds what (columns are named by their header
text, e.g. ``工单编号``)::

    columns:
      id: 工单编号          # the ticket number → event id (required)
      time: 受理时间        # when the hotline took the call (required)
      text: 诉求内容        # what the caller said (required)
      category: 诉求类别    # mapped through categories:
      address: 事发地址
      venue: 涉事单位
      area: 所属社区        # area code or name from the world file
      lat: 纬度
      lon: 经度
      phone: 来电号码       # only a masked form is kept: 138****1234
    categories: {垃圾: garbage, 噪音: noise}

Every data row becomes an event or a :class:`Rejection` naming the row as a
spreadsheet counts it (the header is row 1, the first data row row 2), the column and
the reason; rejected rows also go to the dead letters (channel ``hotline``) and the rest
of the file goes on. Events keep the ticket number as their id under the fixed source
``hotline``, so importing the same file again finds every ticket already stored
(``duplicate``) and creates nothing.

Accepted events go through :class:`~cityeye.live.pipeline.LivePipeline` exactly as events
posted over HTTP do: stored durably, de-duplicated on ``(source, id)``, then analysed
by the scenario engine (``citizen.report`` opens an alert and a case for each). They
are fed in time order (exports are often newest first), so that the engine's reorder
window does not mistake the older half of the file for late events.

Privacy: a caller's number is never stored whole. The phone column keeps only a
masked form, and mobile, landline and ID-card numbers inside the free text are masked
the same way, in events and in dead letters alike.

The package, one module per concern: :mod:`.mapping` (the mapping file),
:mod:`.sheet` (reading a CSV or XLSX export), :mod:`.masking` (phone and ID-card
numbers, shared with Open311), :mod:`.rows` (a row → an event) and :mod:`.importer`
(the import and its report). The names below are what the command line, the Open311
endpoint and the tests use.
"""

from cityeye.ingest.hotline.importer import (
    ImportResult,
    import_sheet,
    print_summary,
    write_errors,
)
from cityeye.ingest.hotline.mapping import (
    HotlineError,
    HotlineMapping,
    load_mapping,
    parse_mapping,
)
from cityeye.ingest.hotline.masking import mask_numbers, mask_phone
from cityeye.ingest.hotline.rows import parse_time
from cityeye.ingest.hotline.sheet import read_sheet

__all__ = [
    "HotlineError",
    "HotlineMapping",
    "ImportResult",
    "import_sheet",
    "load_mapping",
    "mask_numbers",
    "mask_phone",
    "parse_mapping",
    "parse_time",
    "print_summary",
    "read_sheet",
    "write_errors",
]
