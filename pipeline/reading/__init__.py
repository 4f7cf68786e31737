"""A page plus the form into readings: identify, register, marks, fields, scans, digital pages, labels, digits.

Pixels live here and nowhere else. Each algorithm keeps its thresholds in one settings object (settings.py).
May use: model, form, sources, tools. Must never import: rules, output, run, the face.
"""
