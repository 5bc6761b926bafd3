"""The plain-Python floor of the bulk pipeline: JSON Lines in, each pack's headline as a JSON line out.

``python benchmarks/floor_pipeline.py market.jsonl 2026-11-23 > out.jsonl`` does the work of
``carepolicy evaluate market.jsonl --detail headline`` with the hand-written headlines of
``floor.py`` and no validation: the baseline the pipeline's time and memory are compared with.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from floor import FLOORS  # noqa: E402


def main() -> None:
    path, day = sys.argv[1], date.fromisoformat(sys.argv[2])
    out = sys.stdout
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    floors = sorted(FLOORS.items())
    with open(path, "rb") as fh:
        for number, line in enumerate(fh, 1):
            record = json.loads(line)
            pid = record["provider"]["id"]
            for pack, fn in floors:
                status, value = fn(record, day)
                out.write(dumps({"line": number, "provider_id": pid, "pack": pack, "status": status, "value": value}) + "\n")


if __name__ == "__main__":
    main()
