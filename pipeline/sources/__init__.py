"""Inbox entries into files into pages, knowing nothing of the form: sniffing, PDF, AcroForm, images, the text layer, resampling, limits.

May use: model, tools. Must never import: form, reading, rules, output, run, the face.
"""
