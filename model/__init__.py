"""The sentiment model: its architecture and its text standardisation, with no I/O."""
