"""Documents on paper (xlsx, PDF): the table layout and the embedded Chinese font that
the monthly report and every export share."""

from cityeye.documents.font import pdf_font
from cityeye.documents.tables import (
    Pdf,
    Sheet,
    cell_text,
    local_time,
    write_pdf,
    write_xlsx,
    xlsx_rows,
)

__all__ = [
    "Pdf",
    "Sheet",
    "cell_text",
    "local_time",
    "pdf_font",
    "write_pdf",
    "write_xlsx",
    "xlsx_rows",
]
