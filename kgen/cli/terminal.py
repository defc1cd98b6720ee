"""What the command line prints of text that someone else wrote."""


def printable(text):
    """`text` with each character that is not printable (escape sequences,
    carriage returns, newlines, bells) written as its Python escape.

    A model card, a file name or an error quoting them comes from whoever
    wrote the preset folder: raw, an escape sequence could retitle the
    terminal or draw a fake line of output under the real ones.
    """
    return "".join(
        character
        if character.isprintable()
        else character.encode("unicode_escape").decode("ascii")
        for character in str(text)
    )


def say(text=""):
    """`print(printable(text))`."""
    print(printable(text))
