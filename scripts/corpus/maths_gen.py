"""Seeded generator of elementary maths text with worked answers, written the way a teacher
types exercises: arithmetic, division with remainders, fractions, decimals, percentages,
powers and roots, order of operations, linear equations, word problems and small tables.

Every equality that is printed goes through `Check`, which evaluates both sides exactly
(fractions, no floating point) and raises AssertionError when they differ, so a wrong answer
cannot reach the corpus.

    python3 maths_gen.py --seed 1234 --docs 5      # print a few documents
    python3 maths_gen.py --self-test               # generate many and check them all
"""

from __future__ import annotations

import argparse
import ast
import math
import random
import re
from fractions import Fraction

# --------------------------------------------------------------------------------------------
# Exact evaluation of the expressions we print
# --------------------------------------------------------------------------------------------

_SUPERSCRIPTS = {"²": "**2", "³": "**3", "⁴": "**4"}


def evaluate(expr: str) -> Fraction:
    """Evaluates an arithmetic expression as printed (×, *, ÷, /, ^, ², −, decimals) exactly."""
    s = expr.replace("×", "*").replace("÷", "/").replace("−", "-").replace("^", "**")
    s = s.replace("·", "*")
    for sup, rep in _SUPERSCRIPTS.items():
        s = s.replace(sup, rep)
    s = s.replace(",", "")  # thousands separators
    # A fraction written without spaces ("3/4") is one number: "1/2 ÷ 3/4" is (1/2) / (3/4).
    s = re.sub(r"(?<![\d.)])(\d+)/(\d+)(?![\d.(])", r"(\1/\2)", s)
    tree = ast.parse(s, mode="eval")

    def ev(node) -> Fraction:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            # Decimals are parsed from their text, never through binary floating point.
            return Fraction(ast.get_source_segment(s, node))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            a, b = ev(node.left), ev(node.right)
            if isinstance(node.op, ast.Add):
                return a + b
            if isinstance(node.op, ast.Sub):
                return a - b
            if isinstance(node.op, ast.Mult):
                return a * b
            if isinstance(node.op, ast.Div):
                assert b != 0, f"division by zero in {expr!r}"
                return a / b
            if isinstance(node.op, ast.Pow):
                assert b.denominator == 1 and 0 <= b <= 12, f"bad exponent in {expr!r}"
                return a ** int(b)
        raise ValueError(f"cannot evaluate {expr!r}")

    return ev(tree)


class Check:
    """Counts the equalities verified while generating."""

    count = 0

    @classmethod
    def chain(cls, *parts: str) -> str:
        """'a = b = c', asserting that every part has the same value."""
        values = [evaluate(p) for p in parts]
        for p, v in zip(parts, values):
            assert v == values[0], f"{' = '.join(parts)}: {p} is {v}, not {values[0]}"
        cls.count += len(parts) - 1
        return " = ".join(parts)

    @classmethod
    def truth(cls, condition: bool, what: str) -> None:
        assert condition, what
        cls.count += 1


# --------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------


def fmt_num(x: Fraction | int, decimals_ok: bool = True) -> str:
    """An integer, a terminating decimal, or a fraction a/b."""
    x = Fraction(x)
    if x.denominator == 1:
        return str(x.numerator)
    d = x.denominator
    while d % 2 == 0:
        d //= 2
    while d % 5 == 0:
        d //= 5
    if decimals_ok and d == 1:
        sign = "-" if x < 0 else ""
        x = abs(x)
        whole = x.numerator // x.denominator
        frac = x - whole
        digits = ""
        while frac:
            frac *= 10
            digits += str(frac.numerator // frac.denominator)
            frac -= frac.numerator // frac.denominator
        return f"{sign}{whole}.{digits}"
    return f"{x.numerator}/{x.denominator}"


def fmt_frac(x: Fraction) -> str:
    return f"{x.numerator}/{x.denominator}" if x.denominator != 1 else str(x.numerator)


def paren(n: int) -> str:
    return f"({n})" if n < 0 else str(n)


def money(cents: int, cur: str) -> str:
    s = f"{cents // 100}.{cents % 100:02d}"
    return {"$": f"${s}", "€": f"€{s}", "£": f"£{s}"}.get(cur, f"{s} {cur}")


class Style:
    """Per-document choice of symbols, so that a sheet is consistent."""

    def __init__(self, rng: random.Random):
        self.times = rng.choice(["×", "×", "×", "*"])
        self.div = rng.choice(["÷", "÷", "/"])
        self.rng = rng

    def mul(self, a, b) -> str:
        return f"{a} {self.times} {b}"

    def dv(self, a, b) -> str:
        return f"{a} {self.div} {b}"

    def ev(self, s: str) -> str:
        """The style's symbols in an expression built with × and ÷."""
        return s.replace("×", self.times).replace("÷", self.div)


NAMES = ["Anna", "Ben", "Carlos", "Dana", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jack",
         "Kemal", "Lena", "Mia", "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sam", "Tara",
         "Umar", "Vera", "Will", "Yuki", "Zoe", "Leo", "Maya", "Omar", "Ella", "Ivan"]
ITEMS = [("apple", "apples"), ("pencil", "pencils"), ("sticker", "stickers"),
         ("marble", "marbles"), ("book", "books"), ("card", "cards"), ("sweet", "sweets"),
         ("orange", "oranges"), ("stamp", "stamps"), ("shell", "shells"), ("egg", "eggs"),
         ("cookie", "cookies"), ("flower", "flowers"), ("coin", "coins"), ("ticket", "tickets")]
CONTAINERS = [("box", "boxes"), ("bag", "bags"), ("packet", "packets"), ("crate", "crates"),
              ("jar", "jars"), ("basket", "baskets"), ("shelf", "shelves"), ("tray", "trays")]
CURRENCIES = ["$", "€", "£", "euros", "dollars"]


def pronoun(name: str) -> str:
    return "She" if name in {"Anna", "Dana", "Emma", "Grace", "Ines", "Lena", "Mia", "Olga",
                             "Priya", "Rosa", "Tara", "Vera", "Yuki", "Zoe", "Maya",
                             "Ella"} else "He"


# --------------------------------------------------------------------------------------------
# Problem templates: each returns (question, worked answer lines)
# --------------------------------------------------------------------------------------------

ASK = ["Solve {q}", "What is {q}?", "Calculate {q}", "Work out {q}", "Compute {q}",
       "{q} = ?", "Find {q}", "How much is {q}?", "Evaluate {q}", "{q}"]


def ask(rng, q: str) -> str:
    return rng.choice(ASK).format(q=q)


def p_add(rng, st):
    a, b = rng.randint(2, 999), rng.randint(2, 999)
    q = f"{a} + {b}"
    return ask(rng, q), [Check.chain(q, str(a + b))]


def p_sub(rng, st):
    a, b = rng.randint(10, 999), rng.randint(1, 999)
    if rng.random() < 0.8 and b > a:
        a, b = b, a
    q = f"{a} - {b}"
    return ask(rng, q), [Check.chain(q, str(a - b))]


def p_mul_table(rng, st):
    a, b = rng.randint(2, 12), rng.randint(2, 12)
    q = st.mul(a, b)
    return ask(rng, q), [Check.chain(q, str(a * b))]


def p_mul_worked(rng, st):
    a, b = rng.randint(11, 99), rng.randint(3, 99)
    q = st.mul(a, b)
    if b < 10:
        tens, ones = a // 10 * 10, a % 10
        steps = [q, f"{st.mul(tens, b)} + {st.mul(ones, b)}", f"{tens * b} + {ones * b}", str(a * b)]
    else:
        tens, ones = b // 10 * 10, b % 10
        if ones == 0:
            steps = [q, str(a * b)]
        else:
            steps = [q, f"{st.mul(a, tens)} + {st.mul(a, ones)}", f"{a * tens} + {a * ones}",
                     str(a * b)]
    return ask(rng, q), [Check.chain(*steps)]


def p_div_exact(rng, st):
    b, qv = rng.randint(2, 12), rng.randint(2, 25)
    a = b * qv
    q = st.dv(a, b)
    lines = [Check.chain(q, str(qv))]
    if rng.random() < 0.5:
        lines.append(f"Check: {Check.chain(st.mul(qv, b), str(a))}")
    return ask(rng, q), lines


def p_div_remainder(rng, st):
    b = rng.randint(2, 12)
    a = rng.randint(b + 1, 150)
    if a % b == 0:
        a += 1
    qv, r = divmod(a, b)
    Check.truth(qv * b + r == a and 0 < r < b, "remainder")
    q = st.dv(a, b)
    form = rng.randrange(3)
    if form == 0:
        lines = [f"{q} = {qv} remainder {r}",
                 f"because {Check.chain(f'{st.mul(b, qv)} + {r}', str(a))}"]
    elif form == 1:
        lines = [f"{q} = {qv} r {r}", f"Check: {Check.chain(f'{st.mul(qv, b)} + {r}', str(a))}"]
    else:
        lines = [f"{b} goes into {a} {qv} times: {Check.chain(st.mul(b, qv), str(qv * b))}.",
                 f"{Check.chain(f'{a} - {qv * b}', str(r))}, so the remainder is {r}.",
                 f"{q} = {qv} remainder {r}"]
    return rng.choice([f"Divide {a} by {b}", ask(rng, q), f"What is {a} divided by {b}?"]), lines


def p_order_ops(rng, st):
    a, b, c = rng.randint(1, 20), rng.randint(2, 12), rng.randint(2, 12)
    form = rng.randrange(4)
    if form == 0:
        e = f"{a} + {b} × {c}"
        lines = [f"Multiplication first: {Check.chain(st.ev(f'{b} × {c}'), str(b * c))}",
                 f"Then: {Check.chain(f'{a} + {b * c}', str(a + b * c))}",
                 f"So {Check.chain(st.ev(e), str(a + b * c))}"]
    elif form == 1:
        e = f"({a} + {b}) × {c}"
        lines = [f"Brackets first: {Check.chain(f'{a} + {b}', str(a + b))}",
                 f"Then: {Check.chain(st.ev(f'{a + b} × {c}'), str((a + b) * c))}",
                 f"So {Check.chain(st.ev(e), str((a + b) * c))}"]
    elif form == 2:
        d = rng.randint(2, 9)
        m = d * rng.randint(2, 12)
        e = f"{m} ÷ {d} + {b} × {c}"
        total = m // d + b * c
        lines = [f"{Check.chain(st.ev(f'{m} ÷ {d}'), str(m // d))} and "
                 f"{Check.chain(st.ev(f'{b} × {c}'), str(b * c))}",
                 f"{Check.chain(f'{m // d} + {b * c}', str(total))}",
                 f"So {Check.chain(st.ev(e), str(total))}"]
    else:
        a = rng.randint(30, 100)
        e = f"{a} - {b} × {c}"
        lines = [f"Multiply before subtracting: {Check.chain(st.ev(f'{b} × {c}'), str(b * c))}",
                 f"{Check.chain(f'{a} - {b * c}', str(a - b * c))}",
                 f"So {Check.chain(st.ev(e), str(a - b * c))}"]
    return ask(rng, st.ev(e)), lines


def p_negative(rng, st):
    a, b = rng.randint(-30, 30), rng.randint(-30, 30)
    op = rng.choice(["+", "-", "×"])
    q = f"{a} {op} {paren(b)}" if op != "×" else st.mul(paren(a), paren(b))
    val = a + b if op == "+" else a - b if op == "-" else a * b
    return ask(rng, q), [Check.chain(q, str(val))]


def p_fraction_add(rng, st):
    b, d = rng.randint(2, 12), rng.randint(2, 12)
    a, c = rng.randint(1, b - 1), rng.randint(1, d - 1)
    op = rng.choice(["+", "-"])
    x, y = Fraction(a, b), Fraction(c, d)
    if op == "-" and x < y:
        a, b, c, d = c, d, a, b
        x, y = y, x
    res = x + y if op == "+" else x - y
    lcm = b * d // math.gcd(b, d)
    q = f"{a}/{b} {op} {c}/{d}"
    steps = [q]
    if b != d or lcm != b:
        steps.append(f"{a * lcm // b}/{lcm} {op} {c * lcm // d}/{lcm}")
    raw = Fraction(a * lcm // b + (c * lcm // d if op == "+" else -(c * lcm // d)), lcm)
    raw_text = f"{a * lcm // b + (c * lcm // d if op == '+' else -(c * lcm // d))}/{lcm}"
    steps.append(raw_text)
    if raw_text != fmt_frac(res):
        steps.append(fmt_frac(res))
    Check.truth(raw == res, "fraction sum")
    lines = [Check.chain(*steps)]
    if res > 1 and res.denominator != 1:
        whole = res.numerator // res.denominator
        rest = res - whole
        lines.append(f"As a mixed number: {whole} {fmt_frac(rest)}")
    return ask(rng, q), lines


def p_fraction_mul(rng, st):
    a, b, c, d = rng.randint(1, 9), rng.randint(2, 10), rng.randint(1, 9), rng.randint(2, 10)
    if rng.random() < 0.5:
        q = f"{a}/{b} × {c}/{d}"
        res = Fraction(a, b) * Fraction(c, d)
        steps = [q, f"{a * c}/{b * d}"]
    else:
        q = f"{a}/{b} ÷ {c}/{d}"
        res = Fraction(a, b) / Fraction(c, d)
        steps = [q, f"{a}/{b} × {d}/{c}", f"{a * d}/{b * c}"]
    if steps[-1] != fmt_frac(res):
        steps.append(fmt_frac(res))
    # Fractions are always divided with "÷": "3/4 / 2/5" would be hard to read.
    return ask(rng, q.replace("×", st.times)), [Check.chain(*[s.replace("×", st.times) for s in steps])]


def p_simplify(rng, st):
    n, d = rng.randint(1, 11), rng.randint(2, 12)
    if n >= d:
        n, d = d - 1 if d > 1 else 1, d
    k = rng.randint(2, 9)
    g = math.gcd(n * k, d * k)
    res = Fraction(n * k, d * k)
    lines = [f"The greatest common divisor of {n * k} and {d * k} is {g}.",
             Check.chain(f"{n * k}/{d * k}", f"({n * k} ÷ {g})/({d * k} ÷ {g})".replace("÷", "/"),
                         fmt_frac(res))]
    return rng.choice([f"Simplify {n * k}/{d * k}", f"Write {n * k}/{d * k} in its simplest form",
                       f"Reduce the fraction {n * k}/{d * k}"]), lines


def p_fraction_of(rng, st):
    b = rng.randint(2, 10)
    a = rng.randint(1, b - 1)
    n = b * rng.randint(2, 20)
    res = n // b * a
    lines = [Check.chain(st.ev(f"{n} ÷ {b}"), str(n // b)),
             Check.chain(st.ev(f"{n // b} × {a}"), str(res)),
             f"So {a}/{b} of {n} is {res}."]
    return rng.choice([f"What is {a}/{b} of {n}?", f"Find {a}/{b} of {n}",
                       f"Calculate {a}/{b} of {n}"]), lines


def p_decimal(rng, st):
    a = Fraction(rng.randint(1, 999), 10 ** rng.randint(1, 2))
    b = Fraction(rng.randint(1, 999), 10 ** rng.randint(1, 2))
    op = rng.choice(["+", "-", "×"])
    if op == "-" and a < b:
        a, b = b, a
    if op == "×":
        b = Fraction(rng.randint(2, 9))
    res = a + b if op == "+" else a - b if op == "-" else a * b
    q = f"{fmt_num(a)} {op} {fmt_num(b)}"
    q = st.ev(q)
    return ask(rng, q), [Check.chain(q, fmt_num(res))]


def p_percent_of(rng, st):
    p = rng.choice([5, 10, 12, 15, 20, 25, 30, 40, 50, 60, 75, 80, 90, 150])
    n = rng.choice([20, 40, 50, 60, 80, 120, 200, 240, 300, 400, 450, 500, 800, 1000, 1200])
    n = n * rng.randint(1, 3)
    res = Fraction(p * n, 100)
    form = rng.randrange(3)
    if form == 0:
        lines = [f"{p}% of {n} = {Check.chain(st.ev(f'{p}/100 × {n}'), fmt_num(res))}"]
    elif form == 1:
        lines = [f"1% of {n} is {Check.chain(st.ev(f'{n} ÷ 100'), fmt_num(Fraction(n, 100)))}",
                 f"{p}% of {n} is {Check.chain(st.ev(f'{p} × {fmt_num(Fraction(n, 100))}'), fmt_num(res))}"]
    else:
        lines = [f"{p}% = {fmt_num(Fraction(p, 100))}",
                 Check.chain(st.ev(f"{fmt_num(Fraction(p, 100))} × {n}"), fmt_num(res))]
    return rng.choice([f"What is {p}% of {n}?", f"Calculate {p}% of {n}", f"Find {p}% of {n}",
                       f"{p}% of {n} = ?"]), lines


def p_percent_ratio(rng, st):
    b = rng.choice([20, 25, 40, 50, 80, 200, 250, 400, 500])
    a = b * rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15]) // 20
    if a == 0:
        a = b // 4
    res = Fraction(a * 100, b)
    return (rng.choice([f"What percentage of {b} is {a}?", f"Write {a} out of {b} as a percentage",
                        f"{a} is what percent of {b}?"]),
            [Check.chain(st.ev(f"{a} ÷ {b} × 100"), fmt_num(res)) + "",
             f"{a} is {fmt_num(res)}% of {b}."])


def p_power(rng, st):
    form = rng.randrange(4)
    if form == 0:
        a, n = rng.randint(2, 9), rng.randint(2, 5)
        q = f"{a}^{n}"
        expanded = " × ".join([str(a)] * n)
        return ask(rng, q), [Check.chain(q, st.ev(expanded), str(a ** n))]
    if form == 1:
        a = rng.randint(2, 20)
        q = f"{a}²"
        return ask(rng, q), [Check.chain(q, st.mul(a, a), str(a * a))]
    if form == 2:
        a = rng.randint(2, 15)
        Check.truth(math.isqrt(a * a) == a, "square root")
        return (rng.choice([f"What is the square root of {a * a}?", f"Find √{a * a}",
                            f"Calculate √{a * a}"]),
                [f"√{a * a} = {a}, because {Check.chain(st.mul(a, a), str(a * a))}"])
    a = rng.randint(2, 10)
    q = f"{a}³"
    return ask(rng, q), [Check.chain(q, st.ev(f"{a} × {a} × {a}"), str(a ** 3))]


def _equation_side(a: int, b: int) -> str:
    """'3x + 5', '3x - 5', 'x + 5', '-2x + 7'."""
    ax = "x" if a == 1 else "-x" if a == -1 else f"{a}x"
    if b == 0:
        return ax
    return f"{ax} + {b}" if b > 0 else f"{ax} - {-b}"


def _plus(b: int) -> str:
    """' + 5' or ' - 5'."""
    return f" + {b}" if b >= 0 else f" - {-b}"


def p_linear(rng, st):
    x = rng.randint(-10, 15)
    form = rng.randrange(4)
    lines: list[str] = []
    if form == 0:  # ax + b = c
        a = rng.choice([2, 3, 4, 5, 6, 7, 8, 9])
        b = rng.randint(-20, 30)
        while b == 0:
            b = rng.randint(-20, 30)
        c = a * x + b
        eq = f"{_equation_side(a, b)} = {c}"
        if b > 0:
            lines.append(f"Subtract {b} from both sides: {a}x = {c} - {b} = {c - b}")
            Check.chain(f"{c} - {b}", str(c - b))
        else:
            lines.append(f"Add {-b} to both sides: {a}x = {c} + {-b} = {c - b}")
            Check.chain(f"{c} + {-b}", str(c - b))
        lines.append(f"Divide both sides by {a}: x = {st.dv(c - b, a)} = {x}")
        Check.chain(f"{c - b} / {a}", str(x))
        lines.append(f"Check: {Check.chain(st.ev(f'{a} × {paren(x)}{_plus(b)}'), str(c))} ✓")
    elif form == 1:  # ax = c
        a = rng.choice([2, 3, 4, 5, 6, 7, 8, 9, 11, 12])
        c = a * x
        eq = f"{a}x = {c}"
        lines.append(f"x = {Check.chain(st.ev(f'{c} ÷ {a}'), str(x))}")
    elif form == 2:  # a(x + b) = c
        a = rng.choice([2, 3, 4, 5, 6])
        b = rng.randint(1, 9)
        c = a * (x + b)
        eq = f"{a}(x + {b}) = {c}"
        lines.append(f"Divide both sides by {a}: x + {b} = {Check.chain(st.ev(f'{c} ÷ {a}'), str(x + b))}")
        lines.append(f"Subtract {b}: x = {Check.chain(f'{x + b} - {b}', str(x))}")
        lines.append(f"Check: {Check.chain(st.ev(f'{a} × ({x} + {b})'), str(c))} ✓")
    else:  # ax + b = cx + d
        a = rng.randint(3, 9)
        c = rng.randint(1, a - 1)
        b = rng.randint(-10, 20)
        d = (a - c) * x + b
        eq = f"{_equation_side(a, b)} = {_equation_side(c, d)}"
        lines.append(f"Subtract {'x' if c == 1 else f'{c}x'} from both sides: "
                     f"{_equation_side(a - c, b)} = {d}")
        lines.append(f"{'x' if a - c == 1 else f'{a - c}x'} = {Check.chain(f'{d} - {paren(b)}', str(d - b))}")
        if a - c != 1:
            lines.append(f"x = {Check.chain(st.ev(f'{d - b} ÷ {a - c}'), str(x))}")
        lhs = a * x + b
        lines.append(f"Check: left side {Check.chain(st.ev(f'{a} × {paren(x)}{_plus(b)}'), str(lhs))}, "
                     f"right side {Check.chain(st.ev(f'{c} × {paren(x)}{_plus(d)}'), str(lhs))} ✓")
    lines.append(f"x = {x}")
    return rng.choice([f"Solve {eq}", f"Solve for x: {eq}", f"Find x if {eq}",
                       f"Solve the equation {eq}", f"{eq}, what is x?"]), lines


def p_gcd_lcm(rng, st):
    a, b = rng.randint(4, 60), rng.randint(4, 60)
    g, l = math.gcd(a, b), a * b // math.gcd(a, b)
    if rng.random() < 0.5:
        fa = [d for d in range(1, a + 1) if a % d == 0]
        fb = [d for d in range(1, b + 1) if b % d == 0]
        common = [d for d in fa if d in fb]
        Check.truth(max(common) == g, "gcd")
        return (rng.choice([f"Find the greatest common divisor of {a} and {b}",
                            f"What is the GCD of {a} and {b}?", f"gcd({a}, {b}) = ?"]),
                [f"Factors of {a}: {', '.join(map(str, fa))}",
                 f"Factors of {b}: {', '.join(map(str, fb))}",
                 f"Common factors: {', '.join(map(str, common))}",
                 f"gcd({a}, {b}) = {g}"])
    Check.chain(st.ev(f"{a} × {b} ÷ {g}"), str(l))
    return (rng.choice([f"Find the least common multiple of {a} and {b}",
                        f"What is the LCM of {a} and {b}?", f"lcm({a}, {b}) = ?"]),
            [f"gcd({a}, {b}) = {g}",
             f"lcm({a}, {b}) = {st.ev(f'{a} × {b} ÷ {g}')} = {l}"])


def p_primes(rng, st):
    n = rng.randint(12, 400)
    factors, m, p = [], n, 2
    while m > 1:
        while m % p == 0:
            factors.append(p)
            m //= p
        p += 1
    Check.chain(st.ev(" × ".join(map(str, factors))), str(n))
    if len(factors) == 1:
        return (rng.choice([f"Is {n} a prime number?", f"Is {n} prime?"]),
                [f"Yes. {n} has no divisors other than 1 and itself, so {n} is prime."])
    if rng.random() < 0.5:
        return (rng.choice([f"Is {n} a prime number?", f"Is {n} prime?"]),
                [f"No. {n} = {st.ev(' × '.join(map(str, factors)))}, so {n} is not prime."])
    return (rng.choice([f"Write {n} as a product of prime factors",
                        f"Find the prime factorization of {n}", f"Factorize {n}"]),
            [f"{n} = {st.ev(' × '.join(map(str, factors)))}"])


def p_rounding(rng, st):
    n = rng.randint(1000, 99999)
    unit, name = rng.choice([(10, "ten"), (100, "hundred"), (1000, "thousand")])
    r = (n + unit // 2) // unit * unit
    Check.truth(abs(n - r) <= unit // 2, "rounding")
    digit = n // (unit // 10) % 10 if unit >= 10 else 0
    return (f"Round {n} to the nearest {name}",
            [f"Look at the digit after the {name}s place: it is {digit}.",
             f"{'It is 5 or more, so round up' if digit >= 5 else 'It is less than 5, so round down'}.",
             f"{n} ≈ {r}"])


# ---- word problems --------------------------------------------------------------------------


def w_give_away(rng, st):
    name, other = rng.sample(NAMES, 2)
    item, items = rng.choice(ITEMS)
    a = rng.randint(8, 60)
    b = rng.randint(1, a - 1)
    return (f"{name} has {a} {items}. {pronoun(name)} gives {b} to {other}. "
            f"How many {items} does {name} have left?",
            [Check.chain(f"{a} - {b}", str(a - b)),
             f"{name} has {a - b} {item if a - b == 1 else items} left."])


def w_total(rng, st):
    name = rng.choice(NAMES)
    item, items = rng.choice(ITEMS)
    a, b, c = rng.randint(3, 40), rng.randint(3, 40), rng.randint(3, 40)
    return (f"{name} collects {items}. On Monday {pronoun(name).lower()} finds {a}, on Tuesday {b} "
            f"and on Wednesday {c}. How many {items} is that altogether?",
            [Check.chain(f"{a} + {b} + {c}", str(a + b + c)),
             f"Altogether {name} has {a + b + c} {items}."])


def w_groups(rng, st):
    item, items = rng.choice(ITEMS)
    cont, conts = rng.choice(CONTAINERS)
    per, n = rng.randint(3, 48), rng.randint(2, 15)
    return (f"A {cont} holds {per} {items}. How many {items} are there in {n} {conts}?",
            [Check.chain(st.mul(per, n), str(per * n)),
             f"There are {per * n} {items} in {n} {conts}."])


def w_share(rng, st):
    item, items = rng.choice(ITEMS)
    k = rng.randint(2, 9)
    n = rng.randint(k + 1, 100)
    q, r = divmod(n, k)
    Check.chain(f"{st.mul(q, k)} + {r}", str(n))
    lines = [f"{st.dv(n, k)} = {q} remainder {r}" if r else Check.chain(st.dv(n, k), str(q))]
    if r:
        lines.append(f"Each child gets {q} {items} and {r} {item if r == 1 else items} "
                     f"{'is' if r == 1 else 'are'} left over.")
    else:
        lines.append(f"Each child gets {q} {items}, with none left over.")
    return (f"{n} {items} are shared equally among {k} children. How many does each child get?",
            lines)


def w_speed(rng, st):
    v, t = rng.choice([4, 5, 12, 15, 40, 45, 50, 60, 70, 80, 90, 100, 120]), rng.randint(2, 6)
    if rng.random() < 0.5:
        vehicle = rng.choice(["A train", "A car", "A bus", "A cyclist", "A boat"])
        return (f"{vehicle} travels at {v} km/h for {t} hours. How far does it go?",
                ["distance = speed × time",
                 f"distance = {Check.chain(st.mul(v, t), str(v * t))} km"])
    d = v * t
    return (f"A car drives {d} km in {t} hours. What is its average speed?",
            ["speed = distance ÷ time",
             f"speed = {Check.chain(st.dv(d, t), str(v))} km/h"])


def w_shopping(rng, st):
    cur = rng.choice(CURRENCIES)
    p1, p2 = rng.randint(50, 900), rng.randint(50, 900)
    n1, n2 = rng.randint(1, 5), rng.randint(1, 5)
    thing1, thing2 = rng.sample(["notebook", "pen", "sandwich", "juice", "ruler", "ball",
                                 "magazine", "cake", "cup of tea", "ice cream"], 2)
    total = n1 * p1 + n2 * p2
    a, b, t = Fraction(p1, 100), Fraction(p2, 100), Fraction(total, 100)
    s1, s2 = "s" if n1 > 1 else "", "s" if n2 > 1 else ""
    lines = [f"{n1} {thing1}{s1}: {Check.chain(st.mul(n1, fmt_money_num(a)), fmt_money_num(n1 * a))}",
             f"{n2} {thing2}{s2}: {Check.chain(st.mul(n2, fmt_money_num(b)), fmt_money_num(n2 * b))}",
             f"Total: {Check.chain(f'{fmt_money_num(n1 * a)} + {fmt_money_num(n2 * b)}', fmt_money_num(t))}",
             f"The total cost is {money(total, cur)}."]
    note = 100 * (total // 100 + 1) if total % 100 else total
    if rng.random() < 0.5:
        note = max(note, rng.choice([1000, 2000, 5000]))
        change = note - total
        lines.append(f"Change from {money(note, cur)}: "
                     f"{Check.chain(f'{fmt_money_num(Fraction(note, 100))} - {fmt_money_num(t)}', fmt_money_num(Fraction(change, 100)))}, "
                     f"so the change is {money(change, cur)}.")
        q = (f"A {thing1} costs {money(p1, cur)} and a {thing2} costs {money(p2, cur)}. "
             f"You buy {n1} {thing1}{s1} and {n2} {thing2}{s2} and pay with {money(note, cur)}. "
             f"How much do you pay and how much change do you get?")
    else:
        q = (f"A {thing1} costs {money(p1, cur)} and a {thing2} costs {money(p2, cur)}. "
             f"How much do {n1} {thing1}{s1} and {n2} {thing2}{s2} cost?")
    return q, lines


def fmt_money_num(x: Fraction) -> str:
    cents = x * 100
    assert cents.denominator == 1
    c = int(cents)
    return f"{c // 100}.{c % 100:02d}"


def w_rectangle(rng, st):
    l, w = rng.randint(2, 30), rng.randint(2, 30)
    unit = rng.choice(["cm", "m", "mm", "km"])
    if rng.random() < 0.5:
        return (f"A rectangle is {l} {unit} long and {w} {unit} wide. What is its area?",
                ["area = length × width", f"area = {Check.chain(st.mul(l, w), str(l * w))} {unit}²"])
    return (f"A rectangle is {l} {unit} long and {w} {unit} wide. What is its perimeter?",
            ["perimeter = 2 × (length + width)",
             f"perimeter = {Check.chain(st.ev(f'2 × ({l} + {w})'), st.ev(f'2 × {l + w}'), str(2 * (l + w)))} {unit}"])


def w_average(rng, st):
    n = rng.randint(3, 6)
    vals = [rng.randint(2, 20) for _ in range(n - 1)]
    mean = rng.randint(max(vals) // 2 + 1, 20)
    last = mean * n - sum(vals)
    if last <= 0:
        last = rng.randint(1, 20)
    vals.append(last)
    total = sum(vals)
    res = Fraction(total, n)
    subject = rng.choice(["test scores", "temperatures in °C", "goals per match",
                          "hours of sleep", "marks"])
    return (f"Find the mean of these {subject}: {', '.join(map(str, vals))}",
            [f"Sum: {Check.chain(' + '.join(map(str, vals)), str(total))}",
             f"Mean: {Check.chain(st.dv(total, n), fmt_num(res))}"])


def w_time(rng, st):
    h, m = rng.randint(6, 20), rng.choice([0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55])
    dh, dm = rng.randint(0, 3), rng.choice([5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55])
    start = h * 60 + m
    end = start + dh * 60 + dm
    Check.truth(end - start == dh * 60 + dm, "duration")
    event = rng.choice(["A film", "A football match", "A lesson", "A concert", "A train journey"])
    dur = (f"{dh} hour{'s' if dh != 1 else ''} " if dh else "") + f"{dm} minutes"
    return (f"{event} starts at {h:02d}:{m:02d} and lasts {dur}. When does it end?",
            [f"{h:02d}:{m:02d} + {dur} = {end // 60 % 24:02d}:{end % 60:02d}",
             f"It ends at {end // 60 % 24:02d}:{end % 60:02d}."])


def w_age(rng, st):
    name, other = rng.sample(NAMES, 2)
    k, a = rng.randint(2, 5), rng.randint(2, 12)
    return (f"{name} is {k} times as old as {other}. {other} is {a} years old. How old is {name}?",
            [Check.chain(st.mul(k, a), str(k * a)), f"{name} is {k * a} years old."])


def w_units(rng, st):
    form = rng.randrange(4)
    if form == 0:
        h = rng.randint(2, 12)
        return (f"How many minutes are there in {h} hours?",
                [f"{Check.chain(st.mul(h, 60), str(h * 60))} minutes"])
    if form == 1:
        km = Fraction(rng.randint(1, 99), rng.choice([1, 10]))
        return (f"Convert {fmt_num(km)} km to metres",
                [f"{fmt_num(km)} km = {Check.chain(st.mul(fmt_num(km), 1000), fmt_num(km * 1000))} m"])
    if form == 2:
        g = rng.randint(1, 20) * 250
        return (f"How many kilograms is {g} g?",
                [f"{g} g = {Check.chain(st.dv(g, 1000), fmt_num(Fraction(g, 1000)))} kg"])
    cm = rng.randint(101, 999)
    return (f"Write {cm} cm in metres",
            [f"{cm} cm = {Check.chain(st.dv(cm, 100), fmt_num(Fraction(cm, 100)))} m"])


def w_discount(rng, st):
    cur = rng.choice(CURRENCIES)
    price = rng.choice([20, 40, 50, 60, 80, 120, 150, 200, 250, 300])
    p = rng.choice([10, 20, 25, 30, 40, 50])
    off = Fraction(price * p, 100)
    thing = rng.choice(["jacket", "bicycle", "pair of shoes", "game", "lamp", "backpack"])
    return (f"A {thing} costs {money(price * 100, cur)}. In the sale it is {p}% off. "
            f"What is the sale price?",
            [f"{p}% of {price} = {Check.chain(st.ev(f'{p}/100 × {price}'), fmt_num(off))}",
             f"Sale price: {Check.chain(f'{price} - {fmt_num(off)}', fmt_num(price - off))}",
             f"The {thing} costs {money(int((price - off) * 100), cur)} in the sale."])


ARITHMETIC = [p_add, p_sub, p_mul_table, p_mul_worked, p_div_exact, p_div_remainder,
              p_order_ops, p_negative, p_decimal]
FRACTIONS = [p_fraction_add, p_fraction_mul, p_simplify, p_fraction_of]
PERCENT = [p_percent_of, p_percent_ratio]
ALGEBRA = [p_linear, p_power]
NUMBER = [p_gcd_lcm, p_primes, p_rounding]
WORD = [w_give_away, w_total, w_groups, w_share, w_speed, w_shopping, w_rectangle, w_average,
        w_time, w_age, w_units, w_discount]
TOPICS = [("Arithmetic", ARITHMETIC, 4), ("Fractions", FRACTIONS, 2), ("Percentages", PERCENT, 1),
          ("Equations and powers", ALGEBRA, 3), ("Numbers", NUMBER, 1),
          ("Word problems", WORD, 4)]


# --------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------


def _pick(rng, topics=TOPICS):
    title, funcs, _ = rng.choices(topics, weights=[w for *_, w in topics])[0]
    return title, rng.choice(funcs)


def doc_single(rng) -> str:
    st = Style(rng)
    _, f = _pick(rng)
    q, a = f(rng, st)
    form = rng.randrange(4)
    if form == 0:
        return q + "\n" + "\n".join(a)
    if form == 1:
        return f"Q: {q}\nA: " + "\n".join(a)
    if form == 2:
        return f"Question: {q}\n\nAnswer:\n" + "\n".join(a)
    return f"{q}\n\nSolution:\n" + "\n".join(a)


def doc_sheet(rng) -> str:
    st = Style(rng)
    title, funcs, _ = rng.choices(TOPICS, weights=[w for *_, w in TOPICS])[0]
    n = rng.randint(4, 10)
    header = rng.choice([f"{title} practice", f"Worksheet: {title.lower()}",
                         f"Exercises - {title.lower()}", f"{title}: worked examples",
                         f"Homework, {title.lower()}", f"Class exercises ({title.lower()})"])
    out = [header, ""]
    if rng.random() < 0.5:  # questions first, answers after
        qs, ans = [], []
        for i in range(1, n + 1):
            q, a = rng.choice(funcs)(rng, st)
            qs.append(f"{i}. {q}")
            ans.append(f"{i}. " + "\n   ".join(a))
        out += qs + ["", rng.choice(["Answers", "Answers:", "Solutions", "Worked answers"])] + ans
    else:
        for i in range(1, n + 1):
            q, a = rng.choice(funcs)(rng, st)
            out.append(f"{i}) {q}")
            out += ["   " + line for line in a]
            out.append("")
    return "\n".join(out).strip()


def doc_table(rng) -> str:
    st = Style(rng)
    form = rng.randrange(4)
    if form == 0:
        n = rng.randint(2, 15)
        lines = [rng.choice([f"Multiplication table of {n}", f"The {n} times table",
                             f"{n} times table"])]
        n_first = rng.random() < 0.7
        lines += [Check.chain(st.mul(n, i) if n_first else st.mul(i, n), str(i * n))
                  for i in range(1, rng.choice([10, 12]) + 1)]
        return "\n".join(lines)
    if form == 1:
        top = rng.randint(8, 20)
        lines = [f"Square numbers from 1 to {top}"]
        lines += [Check.chain(f"{i}²", st.mul(i, i), str(i * i)) for i in range(1, top + 1)]
        return "\n".join(lines)
    if form == 2:
        n = rng.randint(2, 12)
        lines = [f"Dividing by {n}"]
        for i in rng.sample(range(1, 13), 8):
            lines.append(Check.chain(st.dv(i * n, n), str(i)))
        return "\n".join(lines)
    # a small conversion table in columns
    rate = rng.choice([(Fraction(1, 4), "quarter"), (Fraction(1, 2), "half"),
                       (Fraction(1, 5), "fifth"), (Fraction(1, 10), "tenth")])
    lines = [f"Fractions, decimals and percentages", "", "fraction | decimal | percent"]
    for k in range(1, int(1 / rate[0]) + 1):
        x = rate[0] * k
        lines.append(f"{fmt_frac(x)} | {fmt_num(x)} | {fmt_num(x * 100)}%")
        Check.truth(Fraction(fmt_num(x)) == x, "decimal")
    return "\n".join(lines)


def doc_lesson(rng) -> str:
    """A short explanation followed by worked examples, like a teacher's board."""
    st = Style(rng)
    topic = rng.choice(["linear", "fractions", "percent", "remainder", "order"])
    intro = {
        "linear": ["To solve a linear equation, do the same thing to both sides until x is "
                   "on its own. Undo additions and subtractions first, then multiplication.",
                   p_linear],
        "fractions": ["To add or subtract fractions, first write them with a common "
                      "denominator, then add or subtract the numerators. Simplify at the end.",
                      p_fraction_add],
        "percent": ["Per cent means 'out of 100'. To find a percentage of a number, divide "
                    "the number by 100 and multiply by the percentage.", p_percent_of],
        "remainder": ["When a number does not divide exactly, the part left over is the "
                      "remainder. It is always smaller than the number you divide by.",
                      p_div_remainder],
        "order": ["Order of operations: brackets first, then powers, then multiplication and "
                  "division from left to right, then addition and subtraction.", p_order_ops],
    }[topic]
    out = [intro[0], ""]
    for i in range(rng.randint(2, 4)):
        q, a = intro[1](rng, st)
        out.append(f"Example {i + 1}: {q}")
        out += a
        out.append("")
    return "\n".join(out).strip()


DOC_KINDS = [(doc_single, 3), (doc_sheet, 4), (doc_table, 1), (doc_lesson, 2)]


def generate(seed: int, target_bytes: int | None = None, docs: int | None = None):
    """Yields (key, text) until `target_bytes` of text or `docs` documents."""
    rng = random.Random(f"maths:{seed}")
    total = n = 0
    while (target_bytes is None or total < target_bytes) and (docs is None or n < docs):
        kind = rng.choices([k for k, _ in DOC_KINDS], weights=[w for _, w in DOC_KINDS])[0]
        text = kind(rng)
        yield f"maths#{n}", text
        total += len(text.encode("utf-8")) + 1
        n += 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--docs", type=int, default=5)
    ap.add_argument("--self-test", action="store_true",
                    help="generate 20000 documents and report how many equalities were checked")
    args = ap.parse_args()
    if args.self_test:
        size = sum(len(t) for _, t in generate(args.seed, docs=20000))
        print(f"ok: 20000 documents, {size} characters, {Check.count} equalities checked")
        return
    for key, text in generate(args.seed, docs=args.docs):
        print(text)
        print("<|endoftext|>")


if __name__ == "__main__":
    main()
