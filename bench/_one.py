"""Run one workload under one framework in this process and print the result as JSON.

The harness starts a fresh interpreter per measurement, so frameworks never share a
process (no leftover state, no import of one framework skewing another).
"""

from __future__ import annotations

import gc
import json
import sys

from . import registry


def main() -> None:
    framework, workload = sys.argv[1], sys.argv[2]
    fn = registry.workload(framework, workload)
    gc.collect()
    ops, seconds = fn()
    json.dump({"ops": ops, "seconds": seconds}, sys.stdout)


if __name__ == "__main__":
    main()
