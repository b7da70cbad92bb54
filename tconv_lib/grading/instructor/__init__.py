"""What the instructor runs: collect, and autograde runs over a class (serial or on Dask)."""
import sys

# jsonschema imports rfc3987_syntax, where installed, for draft 7's "iri" format, and that module
# builds a grammar as it is imported: 1.6 s of the start of every grading process (the
# coordinator and each Dask worker). nbformat validates against draft-4 schemas, which have no
# such format, so nothing here needs it.
sys.modules.setdefault("rfc3987_syntax", None)
