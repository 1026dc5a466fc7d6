"""Benchmarks of django-timak, each figure measured against its floor in the same run.

Run ``make bench`` (or ``python -m benchmarks --quick``); see "Benchmarks" in README.rst.
"""
