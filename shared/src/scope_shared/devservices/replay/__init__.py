"""Local replays of the source APIs, serving the real samples shipped with the project.

Each reproduces its API's paging, caps and query parameters as FORMATS.md documents them, and
can inject the failures real APIs have (`faults.py`). The harvesters' tests run against them,
and `scope demo` serves them all at once (`composite.py`) so the whole pipeline runs offline.
"""
