"""Running a batch: `inbox` lists the submissions, names them and keeps fingerprints and the outbox lock;
`batch` runs them on a worker pool and recovers from a worker's death; `submission` is one submission's
flow, stage by stage; `crops` saves the pictures the dossier shows.

May use: every part below the face. Must never import: the face (cli).
"""
