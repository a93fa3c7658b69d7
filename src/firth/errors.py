"""The one exception type for problems a user can cause and fix."""


class FirthError(Exception):
    """A user-caused problem (bad file, bad argument, missing data).

    The message is one sentence naming the problem and the file, line or
    argument; the CLI prints it without a traceback and exits non-zero.
    """
