"""A small spreadsheet formula evaluator: the subset of functions the app writes into sheets (conditional
formatting rules, the « À corriger » links), with the semantics Google Sheets, Excel and LibreOffice share.

Used by the fake Sheets API (which cells a conditional rule colours, where a HYPERLINK points) and by the tests of
the local workbook, so that a rule can be checked against the validator it mirrors. Modelled semantics:
- `=` and `<>` compare text case-insensitively; a number never equals a text; "" equals an empty cell;
- `&` and text functions turn numbers into their general form (14 digits stay 14 digits);
- arithmetic on text that is not a number is #VALUE!; errors propagate, IF evaluates only the branch it takes;
- a conditional rule whose formula ends in an error does not apply;
- relative references move with the cell the rule is evaluated for, `$` parts stay.
Both argument separators are accepted ("," as in OOXML files, ";" as the app sends them to Google).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

EPOCH = date(1899, 12, 30)


class FormulaError(Exception):
    """A formula the evaluator cannot parse: a defect of the formula or of this model, never a sheet value."""


@dataclass(frozen=True)
class Err:
    code: str  # "#VALUE!", "#N/A", "#REF!", "#DIV/0!"


@dataclass(frozen=True)
class Link:
    url: str
    label: object


@dataclass(frozen=True)
class Ref:
    tab: str | None
    r0: int | None  # 0-based; None: whole column
    c0: int | None  # None: whole row
    r1: int | None
    c1: int | None


class Grid:
    """Cell values by tab: `cells[tab][row][col]` (0-based), text or number; missing means empty."""

    def __init__(self, cells: dict[str, list[list]]):
        self.cells = cells

    def value(self, tab: str, row: int, col: int):
        rows = self.cells.get(tab)
        if rows is None:
            return Err("#REF!")
        if row < len(rows) and col < len(rows[row]):
            value = rows[row][col]
            return "" if value is None else value
        return ""

    def height(self, tab: str) -> int:
        return len(self.cells.get(tab, []))

    def width(self, tab: str) -> int:
        return max((len(r) for r in self.cells.get(tab, [])), default=0)


# ---- tokens --------------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>"(?:[^"]|"")*")
  | (?P<ref>(?:(?:'(?:[^']|'')+'|[A-Za-z_][\w.]*)!)?
        (?:\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?|\$?[A-Z]{1,3}:\$?[A-Z]{1,3}|\$?\d+:\$?\d+)(?![\w(]))
  | (?P<num>\d+(?:\.\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<op><>|<=|>=|[-+*/&=<>(),;])
""", re.X)


def _tokens(text: str) -> list[tuple[str, str]]:
    out, i = [], 0
    while i < len(text):
        match = _TOKEN.match(text, i)
        if not match:
            raise FormulaError(f"cannot read {text[i:i + 20]!r}")
        kind = match.lastgroup
        if kind != "ws":
            out.append((kind, match.group()))
        i = match.end()
    return out


def _col(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _endpoint(text: str, d_row: int, d_col: int) -> tuple[int | None, int | None]:
    match = re.fullmatch(r"(\$?)([A-Z]*)(\$?)(\d*)", text)
    col_abs, letters, row_abs, digits = match.groups()
    col = None if not letters else _col(letters) + (0 if col_abs else d_col)
    row = None if not digits else int(digits) - 1 + (0 if row_abs else d_row)
    return row, col


def _parse_ref(text: str, d_row: int, d_col: int) -> Ref:
    tab = None
    if "!" in text:
        tab, text = text.rsplit("!", 1)
        tab = tab[1:-1].replace("''", "'") if tab.startswith("'") else tab
    first, _, second = text.partition(":")
    r0, c0 = _endpoint(first, d_row, d_col)
    r1, c1 = _endpoint(second, d_row, d_col) if second else (r0, c0)
    return Ref(tab, r0, c0, r1, c1)


# ---- parser (recursive descent) into closures ----------------------------------------------------------------


def _binary(operation, left, right):
    return lambda ctx: operation(_deref(ctx, left(ctx)), _deref(ctx, right(ctx)))


class _Parser:
    def __init__(self, tokens, d_row: int, d_col: int):
        self.tokens, self.i, self.d_row, self.d_col = tokens, 0, d_row, d_col

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else ("end", "")

    def take(self, value: str | None = None):
        token = self.peek()
        if value is not None and token[1].upper() != value:
            raise FormulaError(f"expected {value!r}, found {token[1]!r}")
        self.i += 1
        return token

    def expression(self):
        left = self.concat()
        while self.peek()[1] in ("=", "<>", "<", ">", "<=", ">="):
            op = self.take()[1]
            right = self.concat()
            left = _binary(lambda x, y, o=op: _compare_values(o, x, y), left, right)
        return left

    def concat(self):
        left = self.additive()
        while self.peek()[1] == "&":
            self.take()
            right = self.additive()
            left = _binary(_join, left, right)
        return left

    def additive(self):
        left = self.term()
        while self.peek()[1] in ("+", "-"):
            op = self.take()[1]
            right = self.term()
            left = _binary(lambda x, y, o=op: _arith(o, x, y), left, right)
        return left

    def term(self):
        left = self.unary()
        while self.peek()[1] in ("*", "/"):
            op = self.take()[1]
            right = self.unary()
            left = _binary(lambda x, y, o=op: _arith(o, x, y), left, right)
        return left

    def unary(self):
        if self.peek()[1] in ("-", "+"):
            op = self.take()[1]
            inner = self.unary()
            return (lambda a, o: lambda ctx: _arith("*", _deref(ctx, a(ctx)), -1.0 if o == "-" else 1.0))(inner, op)
        return self.primary()

    def primary(self):
        kind, text = self.take()
        if kind == "str":
            value = text[1:-1].replace('""', '"')
            return lambda ctx: value
        if kind == "num":
            number = float(text)
            return lambda ctx: number
        if kind == "ref":
            ref = _parse_ref(text, self.d_row, self.d_col)
            return lambda ctx: ref
        if text == "(":
            inner = self.expression()
            self.take(")")
            return inner
        if kind == "name":
            upper = text.upper()
            if self.peek()[1] != "(":
                if upper in ("TRUE", "FALSE"):
                    return lambda ctx: upper == "TRUE"
                raise FormulaError(f"unknown name {text!r}")
            self.take("(")
            args = []
            if self.peek()[1] != ")":
                args.append(self.expression())
                while self.peek()[1] in (",", ";"):
                    self.take()
                    args.append(self.expression())
            self.take(")")
            if upper not in FUNCTIONS:
                raise FormulaError(f"function {upper} is not modelled")
            function = FUNCTIONS[upper]
            return lambda ctx: function(ctx, args)
        raise FormulaError(f"unexpected {text!r}")


@dataclass
class _Context:
    grid: Grid
    tab: str


# ---- values --------------------------------------------------------------------------------------------------


def _deref(ctx: _Context, value):
    """A single value: a reference to one cell becomes its value (anything larger is #VALUE!)."""
    if isinstance(value, Ref):
        if value.r0 is None or value.c0 is None or (value.r0, value.c0) != (value.r1, value.c1):
            return Err("#VALUE!")
        return ctx.grid.value(value.tab or ctx.tab, value.r0, value.c0)
    return value


def _cells(ctx: _Context, ref: Ref):
    tab = ref.tab or ctx.tab
    r0 = 0 if ref.r0 is None else ref.r0
    r1 = ctx.grid.height(tab) - 1 if ref.r1 is None else ref.r1
    c0 = 0 if ref.c0 is None else ref.c0
    c1 = ctx.grid.width(tab) - 1 if ref.c1 is None else ref.c1
    return [[ctx.grid.value(tab, r, c) for c in range(c0, c1 + 1)] for r in range(r0, r1 + 1)]


def text_of(value) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float | int):
        return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else format(value, ".15g")
    return str(value)


def _number(value):
    if isinstance(value, Err):
        return value
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float | int):
        return float(value)
    text = str(value).strip()
    if text == "":
        return 0.0
    if re.fullmatch(r"[+-]?\d+(\.\d+)?", text):
        return float(text)
    return Err("#VALUE!")


def _bool(value):
    if isinstance(value, Err | bool):
        return value
    if isinstance(value, float | int):
        return value != 0
    if str(value).upper() in ("TRUE", "FALSE"):
        return str(value).upper() == "TRUE"
    if value == "":
        return False
    return Err("#VALUE!")


def _compare_values(op: str, a, b):
    for value in (a, b):
        if isinstance(value, Err):
            return value
    if isinstance(a, Ref) or isinstance(b, Ref):
        return Err("#VALUE!")
    if a == "" and isinstance(b, float | int) and not isinstance(b, bool):
        a = 0.0
    if b == "" and isinstance(a, float | int) and not isinstance(a, bool):
        b = 0.0
    rank = lambda v: 0 if isinstance(v, bool) else (1 if isinstance(v, float | int) else 2)  # noqa: E731
    if rank(a) != rank(b):
        result = {"=": False, "<>": True}.get(op)
        if result is not None:
            return result
        key_a, key_b = rank(a), rank(b)  # Excel: numbers < text < booleans
        order = {1: 0, 2: 1, 0: 2}
        key_a, key_b = order[key_a], order[key_b]
    elif rank(a) == 2:
        key_a, key_b = str(a).casefold(), str(b).casefold()
    else:
        key_a, key_b = a, b
    return {"=": key_a == key_b, "<>": key_a != key_b, "<": key_a < key_b, ">": key_a > key_b,
            "<=": key_a <= key_b, ">=": key_a >= key_b}[op]


def _join(a, b):
    for value in (a, b):
        if isinstance(value, Err):
            return value
        if isinstance(value, Ref):
            return Err("#VALUE!")
    return text_of(a) + text_of(b)


def _arith(op: str, a, b):
    x, y = (Err("#VALUE!") if isinstance(v, Ref) else _number(v) for v in (a, b))
    for value in (x, y):
        if isinstance(value, Err):
            return value
    if op == "/" and y == 0:
        return Err("#DIV/0!")
    return {"+": x + y, "-": x - y, "*": x * y, "/": x / y if y else 0.0}[op]


# ---- functions -----------------------------------------------------------------------------------------------


def _values(ctx, args):
    return [_deref(ctx, a(ctx)) for a in args]


def _first_error(values):
    return next((v for v in values if isinstance(v, Err)), None)


def _text_fn(fn):
    def run(ctx, args):
        values = _values(ctx, args)
        error = _first_error(values)
        return error if error else fn(*values)
    return run


def _and(ctx, args):
    values = [_bool(v) for v in _values(ctx, args)]
    return _first_error(values) or all(values)


def _or(ctx, args):
    values = [_bool(v) for v in _values(ctx, args)]
    return _first_error(values) or any(values)


def _if(ctx, args):
    test = _bool(_deref(ctx, args[0](ctx)))
    if isinstance(test, Err):
        return test
    if test:
        return _deref(ctx, args[1](ctx))
    return _deref(ctx, args[2](ctx)) if len(args) > 2 else False


def _iserror(ctx, args):
    return isinstance(_deref(ctx, args[0](ctx)), Err)


def _isnumber(ctx, args):
    value = _deref(ctx, args[0](ctx))
    return isinstance(value, float | int) and not isinstance(value, bool)


def _mid(text, start, length):
    start, length = _number(start), _number(length)
    if isinstance(start, Err) or isinstance(length, Err) or start < 1 or length < 0:
        return Err("#VALUE!")
    s = text_of(text)
    return s[int(start) - 1:int(start) - 1 + int(length)]


def _left(text, count=1.0):
    count = _number(count)
    return count if isinstance(count, Err) else text_of(text)[:int(count)]


def _right(text, count=1.0):
    count = _number(count)
    if isinstance(count, Err):
        return count
    s = text_of(text)
    return s[len(s) - int(count):] if int(count) else ""


def _find(needle, haystack, start=1.0):
    start = _number(start)
    if isinstance(start, Err):
        return start
    position = text_of(haystack).find(text_of(needle), int(start) - 1)
    return Err("#VALUE!") if position < 0 or start < 1 else float(position + 1)


def _mod(a, b):
    x, y = _number(a), _number(b)
    if isinstance(x, Err) or isinstance(y, Err):
        return x if isinstance(x, Err) else y
    return Err("#DIV/0!") if y == 0 else x - y * (x // y)


def _value(text):
    if isinstance(text, float | int) and not isinstance(text, bool):
        return float(text)
    number = _number(str(text).strip()) if str(text).strip() else Err("#VALUE!")
    return number


def _date(y, m, d):
    y, m, d = _number(y), _number(m), _number(d)
    for value in (y, m, d):
        if isinstance(value, Err):
            return value
    months = int(y) * 12 + int(m) - 1
    try:
        first = date(months // 12, months % 12 + 1, 1)
    except ValueError:
        return Err("#NUM!")
    return float((first + timedelta(days=int(d) - 1) - EPOCH).days)


def _serial_part(part):
    def run(serial):
        number = _number(serial)
        if isinstance(number, Err):
            return number
        day = EPOCH + timedelta(days=int(number))
        return float(getattr(day, part))
    return run


def _code(text):
    s = text_of(text)
    return Err("#VALUE!") if not s else float(ord(s[0]))


def _char(number):
    n = _number(number)
    return n if isinstance(n, Err) else chr(int(n))


def _counta(ctx, args):
    total = 0
    for arg in args:
        value = arg(ctx)
        cells = _cells(ctx, value) if isinstance(value, Ref) else [[value]]
        total += sum(1 for line in cells for cell in line if cell != "")
    return float(total)


def _countif(ctx, args):
    ref = args[0](ctx)
    wanted = _deref(ctx, args[1](ctx))
    if not isinstance(ref, Ref) or isinstance(wanted, Err):
        return Err("#VALUE!")
    return float(sum(1 for line in _cells(ctx, ref) for cell in line
                     if cell != "" and _compare_values("=", cell, wanted) is True))


def _indirect(ctx, args):
    text = _deref(ctx, args[0](ctx))
    if isinstance(text, Err):
        return text
    return _parse_ref(text_of(text), 0, 0)


def _match(ctx, args):
    wanted = _deref(ctx, args[0](ctx))
    ref = args[1](ctx)
    if isinstance(wanted, Err):
        return wanted
    if not isinstance(ref, Ref):
        return Err("#N/A")
    flat = [cell for line in _cells(ctx, ref) for cell in line]
    for index, cell in enumerate(flat, start=1):
        if cell != "" and _compare_values("=", cell, wanted) is True:
            return float(index)
    return Err("#N/A")


def _address(row, col, kind=1.0):
    row, col, kind = _number(row), _number(col), _number(kind)
    for value in (row, col, kind):
        if isinstance(value, Err):
            return value
    letters, n = "", int(col)
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{int(row)}" if int(kind) == 4 else f"${letters}${int(row)}"


def _hyperlink(url, label=None):
    return Link(text_of(url), url if label is None else label)


def _exact(a, b):
    return text_of(a) == text_of(b)


FUNCTIONS = {
    "AND": _and, "OR": _or, "IF": _if, "ISERROR": _iserror, "ISNUMBER": _isnumber,
    "NOT": _text_fn(lambda v: (lambda b: b if isinstance(b, Err) else not b)(_bool(v))),
    "LEN": _text_fn(lambda v: float(len(text_of(v)))),
    "UPPER": _text_fn(lambda v: text_of(v).upper()),
    "LOWER": _text_fn(lambda v: text_of(v).lower()),
    "SUBSTITUTE": _text_fn(lambda v, old, new: text_of(v).replace(text_of(old), text_of(new)) if text_of(old)
                           else text_of(v)),
    "MID": _text_fn(_mid), "LEFT": _text_fn(_left), "RIGHT": _text_fn(_right), "FIND": _text_fn(_find),
    "MOD": _text_fn(_mod), "VALUE": _text_fn(_value), "DATE": _text_fn(_date),
    "DAY": _text_fn(_serial_part("day")), "MONTH": _text_fn(_serial_part("month")),
    "YEAR": _text_fn(_serial_part("year")), "CODE": _text_fn(_code), "CHAR": _text_fn(_char),
    "EXACT": _text_fn(_exact), "ADDRESS": _text_fn(_address), "HYPERLINK": _text_fn(_hyperlink),
    "COUNTA": _counta, "COUNTIF": _countif, "INDIRECT": _indirect, "MATCH": _match,
}


def _trim(text: str) -> str:
    return re.sub(" +", " ", text).strip(" ")


FUNCTIONS["TRIM"] = _text_fn(lambda v: _trim(text_of(v)))


# ---- entry points --------------------------------------------------------------------------------------------


def evaluate(formula: str, grid: Grid, tab: str, at: tuple[int, int] = (0, 0), anchor: tuple[int, int] | None = None):
    """The value of `formula` (with or without its leading "=") in cell `at` of `tab` (0-based row, col).

    `anchor` is the cell the formula was written for (a conditional rule's top-left cell): relative references
    move by the distance from `anchor` to `at`. Without it, references are taken as written."""
    anchor = anchor or at
    tree = _compiled(formula, at[0] - anchor[0], at[1] - anchor[1])
    context = _Context(grid, tab)
    return _deref(context, tree(context))


@lru_cache(maxsize=4096)
def _compiled(formula: str, d_row: int, d_col: int):
    body = formula[1:] if formula.startswith("=") else formula
    parser = _Parser(_tokens(body), d_row, d_col)
    tree = parser.expression()
    if parser.peek()[0] != "end":
        raise FormulaError(f"unexpected {parser.peek()[1]!r} in {formula[:60]!r}")
    return tree


def rule_applies(formula: str, grid: Grid, tab: str, at: tuple[int, int], anchor: tuple[int, int]) -> bool:
    """A conditional formatting rule colours the cell when its formula is TRUE (an error never colours)."""
    value = _bool(evaluate(formula, grid, tab, at, anchor))
    return value is True
