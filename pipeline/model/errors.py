"""The exception hierarchy: every error the pipeline raises on purpose derives from PipelineError.

Each exception carries a plain-language `message` (it names the file, page or form key it is
about) and, when it ends up in result.json as a flag, the contract's `flag_code`. Wrap library
errors at the boundary and keep the cause:

    raise UnreadableFileError(f"{name}: encrypted PDF") from exc
"""

from __future__ import annotations


class PipelineError(Exception):
    """Base of every error the pipeline raises on purpose.

    Args:
        message: plain language a reviewer or operator can act on.
        flag_code: the result.json flag code this error becomes, or None if it never does.
    """

    default_flag_code: str | None = None

    def __init__(self, message: str, flag_code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.flag_code = flag_code if flag_code is not None else self.default_flag_code

    def __str__(self) -> str:
        return self.message


class UnreadableFileError(PipelineError):
    """An input file (or one page of it) cannot be read: damaged, encrypted, not a PDF, …"""

    default_flag_code = "unreadable_file"


class LimitExceededError(UnreadableFileError):
    """An input exceeds a safety limit (size, pages, pixels, time); the file is not read further."""


class FormDefinitionError(PipelineError):
    """forms/<name>/ is inconsistent or unreadable; the message names the file and the key.

    A broken form definition stops the run (exit code 1), so it carries no flag code.
    """


class ExternalToolError(PipelineError):
    """An external program (Tesseract, LibreOffice, qpdf) failed, timed out or is missing."""


class OcrError(ExternalToolError):
    """Tesseract failed or timed out on a region; callers degrade the reading to `uncertain`."""


class ConversionError(ExternalToolError):
    """LibreOffice could not convert a DOCX to PDF (timeout, crash, missing fonts)."""


class OverridesError(PipelineError):
    """review.yaml cannot be parsed or names an unknown item, option or attachment."""
