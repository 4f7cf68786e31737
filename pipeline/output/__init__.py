"""What lands in the outbox: result.json and summary.csv, the dossier, the certificate, merged PDFs.

May use: model, tools. Must never import: sources, reading, rules, run, the face.
"""
