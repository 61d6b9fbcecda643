"""Synthetic agency lists with their truth, and the quality measures scored against it."""
