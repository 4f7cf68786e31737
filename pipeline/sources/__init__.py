"""Inbox entries into files into pages, knowing nothing of the form: sniffing, PDF, AcroForm, images, the text layer, resampling, limits.

ingest drives entry -> files -> pages; page holds Page and OpenedSource, the records other parts
name; entry lists an entry's files (the one listing); textlayer is the one text-layer reader.

May use: model, tools. Must never import: form, reading, rules, output, run, the face.
"""
