"""The simulated RouterOS console's text, in and out: how a value is quoted and escaped when the
router prints it, how a typed line splits into words and its escapes are read, how ``/export``
wraps its lines, and the error lines the console prints.

Why the simulator has its own (and shares nothing with the driver's config parser): the driver
reads and writes this text to talk to real routers, and a simulator that quoted with the
driver's function would agree with any mistake in it.

Escape sequences, from MikroTik's manual (Manual:Scripting, "Constant Escape Sequences") [M]:
``\\"`` ``\\\\`` ``\\n`` ``\\r`` ``\\t`` ``\\$`` ``\\?`` ``\\_`` (space) ``\\a`` (0x07) ``\\b``
(0x08) ``\\f`` (the manual says 0xFF) ``\\v`` (0x0B), and ``\\XX``, a byte in hex, where "hex
number should use capital letters". Real exports write every byte outside printable ASCII that
way, upper case (``comment="\\D0\\9F\\D1\\80..."``, Vietnamese ``Ph\\E1\\BB\\91``), and CR LF in
scripts as ``\\r\\n`` [V: public exports]. A RouterOS 7.21 test suite records ``:put "\\e2\\9c\\85"``
as a parse error and ``"\\E2\\9C\\85"`` as the check mark [V: one public source]; the manual's
letter escapes ``\\a``, ``\\b``, ``\\f`` would clash with lower-case hex anyway. So this console
reads upper-case hex only and answers anything else after a backslash with a syntax error; the
column it names is [?]. Whether ``/export`` escapes ``?`` is [?] (it reads back either way).

Reproduce by hand::

    .venv/bin/python -c "from camfleet.sim.routeros.text import *; q = quote('Phố Mới'); \\
        print(q, tokenize('comment=' + q)[0].text)"
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

EXPORT_WIDTH = 79  # no export line is longer, the trailing "\" included


class CliError(Exception):
    """A console error: its text is exactly what RouterOS prints."""


def pos(column: int) -> str:
    return f"(line 1 column {column})"


# ---------------------------------------------------------------------------------------------
# Escapes, one table each way

#: What follows a backslash inside "..." when the console reads a line, and the bytes it means.
READ_ESCAPES: dict[str, bytes] = {
    '"': b'"',
    "\\": b"\\",
    "n": b"\n",
    "r": b"\r",
    "t": b"\t",
    "$": b"$",
    "?": b"?",
    "_": b" ",
    "a": b"\x07",
    "b": b"\x08",
    "f": b"\xff",  # [?] the manual's own value; C's form feed would be 0x0C
    "v": b"\x0b",
}
HEX_DIGITS = frozenset("0123456789ABCDEF")  # capital letters only [M]

#: The bytes ``/export`` and ``print`` write as a named escape; other bytes outside printable
#: ASCII become ``\XX``.
WRITE_ESCAPES: dict[int, str] = {
    ord('"'): '\\"',
    ord("\\"): "\\\\",
    ord("$"): "\\$",  # else the console would expand a variable
    ord("?"): "\\?",  # else the console would show help
    0x0A: "\\n",
    0x0D: "\\r",
    0x09: "\\t",
}
BARE = frozenset(string.ascii_letters + string.digits + "_.:/,!*@%-")  # printed without quotes


def quote(value: str, force: bool = False) -> str:
    """A value as the console prints it: bare when every character is safe, else in quotes, byte
    by byte (UTF-8), with the named escapes above and ``\\XX`` in capitals for the rest."""
    if not force and value and all(ch in BARE for ch in value):
        return value
    out: list[str] = []
    for byte in value.encode("utf-8"):
        if byte in WRITE_ESCAPES:
            out.append(WRITE_ESCAPES[byte])
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:02X}")
    return '"' + "".join(out) + '"'


def unescape(body: str, column: int) -> str:
    """The text between two quotes as the console reads it; ``column`` is where ``body`` starts
    on the line (1-based), for the error."""
    data = bytearray()
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            data += ch.encode("utf-8")
            i += 1
            continue
        escape = body[i + 1 : i + 2]
        pair = body[i + 1 : i + 3]
        if escape in READ_ESCAPES:
            data += READ_ESCAPES[escape]
            i += 2
        elif len(pair) == 2 and set(pair) <= HEX_DIGITS:
            data.append(int(pair, 16))
            i += 3
        else:
            raise CliError(f"syntax error {pos(column + i + 1)}")  # [?] text and column
    return data.decode("utf-8", errors="replace")


# ---------------------------------------------------------------------------------------------
# Text out: the export layout


def wrap_export(words: list[str], first: str) -> list[str]:
    """Lay ``add a=1 b=2`` out the way /export does: lines of at most 79 columns ending in ``\\``,
    continuation lines indented by 4, and a break allowed right after ``key=``."""
    lines: list[str] = []
    line = first
    for n, word in enumerate(words):
        last = n == len(words) - 1
        sep = "" if line.endswith(" ") or line == "    " else " "
        room = EXPORT_WIDTH - (0 if last else 2)
        if len(line) + len(sep) + len(word) <= room:
            line += sep + word
            continue
        key, eq, value = word.partition("=")
        # A break after "key=" needs one column more than a break between words (seen in exports).
        if eq and value and len(line) + len(sep) + len(key) + 2 <= EXPORT_WIDTH - 1:
            lines.append(line + sep + key + "=\\")
            line = "    " + value
            continue
        lines.append(line.rstrip() + " \\")
        line = "    " + word
    lines.append(line)
    return lines


# ---------------------------------------------------------------------------------------------
# Text in: tokens


@dataclass(frozen=True)
class Token:
    text: str  # with quotes resolved (for key="a b": key=a b)
    column: int  # 1-based, where the token starts
    raw: str


#: The pieces a console line is made of: a quoted string, a quote that never closes, a bracket,
#: blanks, and runs of anything else.
_PIECES = re.compile(r'"(?:[^"\\]|\\.)*"|"|[\[\]]|[ \t]+|[^ \t"\[\]]+', re.S)


def tokenize(line: str) -> list[Token]:
    """Split a console line into words; quotes and ``[ ... ]`` stay inside one word."""
    tokens: list[Token] = []
    text, start, end, depth = "", -1, 0, 0  # the word being read (start -1: none)
    for piece in _PIECES.finditer(line):
        at, chunk = piece.start(), piece.group()
        if chunk[0] in " \t" and not depth:
            if start >= 0:
                tokens.append(Token(text, start + 1, line[start:end]))
                text, start = "", -1
            continue
        if start < 0:
            if chunk[0] == ";":
                raise CliError(f"expected end of command {pos(at + 1)}")
            start = at
        if chunk == '"':
            raise CliError(f"expected closing quote {pos(len(line) + 1)}")  # [?]
        if chunk[0] == '"':
            text += chunk if depth else unescape(chunk[1:-1], at + 2)
        else:
            if chunk == "]" and not depth:
                raise CliError(f"syntax error {pos(at + 1)}")
            depth += {"[": 1, "]": -1}.get(chunk, 0)
            text += chunk
        end = piece.end()
    if depth:
        raise CliError(f"expected closing bracket {pos(len(line) + 1)}")  # [?]
    if start >= 0:
        tokens.append(Token(text, start + 1, line[start:end]))
    return tokens
