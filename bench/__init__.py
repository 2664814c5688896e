"""The benchmark harness: `python -m bench` (see bench/README.md). Nothing here is imported by the product."""
