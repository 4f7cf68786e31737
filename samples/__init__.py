"""Generators of synthetic submissions with their truth, and the demo's fill code: test material, never imported by pipeline/."""
