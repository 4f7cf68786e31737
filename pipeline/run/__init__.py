"""Running a batch: the inbox listing, outbox names, fingerprints and lock, the worker pool and its recovery, one submission's flow.

May use: every part below the face. Must never import: the face (cli).
"""
