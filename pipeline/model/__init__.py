"""The records passed between stages (form, readings, results) and the errors.

Owns: frozen dataclasses, the geometry of boxes and points <-> pixels, PipelineError and its kinds.
Must never import: any other part of the package (everything else builds on this one).
"""
