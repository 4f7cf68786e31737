"""Running a batch: `inbox` lists the submissions and keeps fingerprints and the outbox lock; `names`
gives each its outbox folder; `batch` runs them in `worker` processes, each under a deadline and a
memory cap; `submission` is one submission's flow, stage by stage; `crops` saves the pictures the
dossier shows.

May use: every part below the face. Must never import: the face (cli).
"""
