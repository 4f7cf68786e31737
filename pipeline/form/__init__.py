"""The form as data: load and cross-check forms/<name>/, calibrate a layout from a blank PDF, print blank and fillable PDFs.

Owns: everything that knows what the questionnaire looks like on paper.
May use: model. Must never import: sources, reading, rules, output, run, the face.
"""
