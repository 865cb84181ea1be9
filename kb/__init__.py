"""NetCourt KB domain: entries, their validation, case numbers and statute citations."""

__version__ = "0.1.0"
