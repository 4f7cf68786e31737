"""One module per external program (Tesseract, LibreOffice), each with its timeout and error mapping.

May use: model (errors). Must never import: any other part.
"""
