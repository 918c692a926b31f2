"""The error a loader raises for a file it cannot use (its own module: every loader raises it)."""


class LoadError(Exception):
    """A file that cannot be ingested; the message is the reason shown to the user."""
