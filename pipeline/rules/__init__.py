"""Readings into answers, evidence, the reviewer's overrides, score and decision: no pixels, no files but review.yaml.

May use: model. Must never import: sources, reading, output, run, the face.
"""
