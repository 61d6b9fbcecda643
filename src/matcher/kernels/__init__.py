"""Numba kernels, one module per family, each beside its plain-Python twin (`*_reference`)."""
