"""Scripts that print figures: `venv/bin/python -m benchmarks.<name>` from the repository root."""
