"""Shipped test helpers: builders, fakes and the strategy harness.

They live in the package (not under tests/) so benchmarks, the simulator's scenarios and other
engineers' tests build objects and drive strategies the same way.
"""
