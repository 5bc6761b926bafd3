__version__ = "0.1.0"
PACK_FORMAT = 2
"""The pack format this version reads (``carepolicy: 2`` at the top of a pack)."""
