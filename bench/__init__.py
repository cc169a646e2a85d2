"""tether's benchmark suite: the same workloads under tether and its peers, side by side.

Run ``make bench`` (or ``python -m bench --help``). Only this package may import peers.
"""
