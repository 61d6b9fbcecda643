"""Hypothesis strategies shared by the tests (one section per area)."""

from __future__ import annotations
