"""What can stop a scoring run; each message is one line that says what to fix."""


class ScoringError(RuntimeError):
    """A run cannot start or cannot finish; nothing is left under the output name."""


class InputError(ScoringError):
    """The input file is missing, of an unknown kind, unreadable, or lacks the text column."""


class OutputError(ScoringError):
    """The output cannot be written: unknown extension, missing folder, or rows that do not fit its columns."""
