"""The benchmark suite (`make bench`): retrieval quality, end-to-end latency and throughput, memory.

Run with `.venv/bin/python -m bench` from the repository root; it writes bench/RESULTS.md and
bench/results.png.
"""
