"""Small HTML tables for notebook and book outputs (the book renders Markdown outputs as CommonMark, without tables)."""
from __future__ import annotations

import html


class Table:
    """A header row and data rows, shown as an HTML table by Jupyter (``_repr_html_``) and as text elsewhere."""

    def __init__(self, header, rows):
        self.header = [str(h) for h in header]
        self.rows = [[str(v) for v in row] for row in rows]
        if any(len(row) != len(self.header) for row in self.rows):
            raise ValueError(f"rows must each have {len(self.header)} entries, one per header column")

    def _repr_html_(self) -> str:
        def cells(values, tag):
            return "".join(f"<{tag}>{html.escape(v)}</{tag}>" for v in values)

        body = "".join(f"<tr>{cells(row, 'td')}</tr>" for row in self.rows)
        return f"<table><thead><tr>{cells(self.header, 'th')}</tr></thead><tbody>{body}</tbody></table>"

    def __repr__(self) -> str:
        widths = [max(len(v) for v in column) for column in zip(self.header, *self.rows)]
        return "\n".join("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip()
                         for row in [self.header, *self.rows])
