"""An independent test set for the review pipeline: printings, fillings, attachments and truth.

Made from the council's seed text and the form's item data only; nothing here imports or reads
the pipeline, its tests or its benchmarks. Seeds 80000-80999 are held out: never tune readers on them.
"""
