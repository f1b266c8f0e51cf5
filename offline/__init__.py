"""Evaluate the Pulumi program offline, under `pulumi.runtime.set_mocks`, for tests and benchmarks."""
