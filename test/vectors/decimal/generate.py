#!/usr/bin/env python3
"""Generate numeric_ops.txt: differential vectors for src/core/decimal.c.

Operands come from a fixed-seed PRNG; a PostgreSQL 15 server computes every
result through numeric's own functions (numeric_in/out, + - * / %, div,
round, trunc, floor, ceil, comparison, ::float8, ::bigint, numeric_send).
PostgreSQL has no banker's rounding and no division at a chosen scale, so
the "roundeven" and "divround" lines are computed here with exact rationals
(fractions.Fraction); the same code is first checked against PostgreSQL's
own round() and "/" on every such line it can be compared with.

Usage: generate.py PGHOST > numeric_ops.txt   (PGUSER postgres, trust auth)
"""

import os
import random
import subprocess
import sys
import tempfile
from fractions import Fraction

SEED = 20240515
rng = random.Random(SEED)


# ---------- operands ----------

def digits(n, nonzero_first=True):
    if n <= 0:
        return ""
    first = str(rng.randint(1, 9)) if nonzero_first else str(rng.randint(0, 9))
    return first + "".join(str(rng.randint(0, 9)) for _ in range(n - 1))


def sparse_digits(n):
    """digits with runs of zeros and nines, to exercise carries and borrows"""
    out = []
    while len(out) < n:
        run = rng.choice("0999" if rng.random() < 0.5 else "0123456789")
        out.extend(run * rng.randint(1, 6))
    s = "".join(out[:n])
    return s


def number(shape=None):
    """a numeric literal of varied magnitude, scale and sign"""
    shape = shape or rng.choices(
        ["money", "medium", "tiny", "boundary", "large", "zero", "sparse"],
        [30, 25, 10, 12, 5, 4, 14])[0]
    sign = "-" if rng.random() < 0.45 else ""
    if shape == "money":
        ip = digits(rng.randint(0, 7))
        fp = digits(rng.randint(0, 6), False)
    elif shape == "medium":
        ip = digits(rng.randint(0, 20))
        fp = digits(rng.randint(0, 20), False)
    elif shape == "tiny":
        ip = ""
        fp = "0" * rng.randint(1, 30) + digits(rng.randint(1, 10))
    elif shape == "large":
        ip = digits(rng.randint(40, 300))
        fp = digits(rng.randint(0, 100), False)
    elif shape == "zero":
        ip = "0"
        fp = "0" * rng.randint(0, 8)
    elif shape == "sparse":
        ip = sparse_digits(rng.randint(0, 16)).lstrip("0")
        fp = sparse_digits(rng.randint(0, 16))
    else:
        base = rng.choice(["9999", "10000", "99999999", "100000000", "1",
                           "9999.9999", "0.0001", "0.9999", "10000.0001",
                           "99999999.99999999", "0.00009999", "5000", "0.5"])
        ip, _, fp = base.partition(".")
        if rng.random() < 0.5:
            fp = fp + "0" * rng.randint(0, 5)
        if rng.random() < 0.3:
            ip = ip + "0" * 4 * rng.randint(1, 3)
    ip = ip or "0"
    return sign + ip + ("." + fp if fp else "")


def tie(scale):
    """a value whose digits after 10^-scale are exactly 5 (a rounding tie)"""
    sign = "-" if rng.random() < 0.5 else ""
    if scale >= 0:
        ip = digits(rng.randint(0, 8)) or "0"
        fp = digits(scale, False) + "5" + "0" * rng.randint(0, 3)
        return sign + ip + "." + fp
    ip = digits(rng.randint(0, 6)) + "5" + "0" * (-scale - 1)
    ip = ip.lstrip("0") or "0"
    return sign + ip + ("." + "0" * rng.randint(1, 3) if rng.random() < 0.3 else "")


def scale_for(a):
    return rng.choice([0, 0, 1, 2, 2, 2, 3, 4, 5, 8, 12, 20, -1, -2, -3, -5,
                       rng.randint(-10, 40)])


# ---------- text inputs (valid and malformed) ----------

def text_input():
    r = rng.random()
    if r < 0.45:
        s = number()
        if rng.random() < 0.3:
            s = ("+" if not s.startswith("-") else "") + s
        if rng.random() < 0.2:
            s = s.replace("0.", ".", 1) if s.lstrip("-+").startswith("0.") else s
        if rng.random() < 0.3:
            s = "0" * rng.randint(1, 6) + s.lstrip("-+") if not s.startswith("-") else s
        if rng.random() < 0.35:
            s += rng.choice("eE") + rng.choice(["", "+", "-"]) + str(rng.choice(
                [0, 1, 2, 3, 4, 5, 7, 10, 20, 100] * 10 + [16383, 16384, 131071, 131072]))
        if rng.random() < 0.2:
            s = rng.choice([" ", "  ", "\t", "\n"]) + s
        if rng.random() < 0.2:
            s = s + rng.choice([" ", "\t ", "\n", "\r\n"])
        return s
    if r < 0.85:
        s = number()
        if rng.random() < 0.3:
            s += "e" + str(rng.randint(-30, 30))
        for _ in range(rng.randint(1, 2)):
            pos = rng.randint(0, len(s))
            op = rng.random()
            if op < 0.5:
                s = s[:pos] + rng.choice(
                    ["x", ".", "-", "+", "e", "E", " ", "_", ",", "e-", "e+", "\t", "1", "0",
                     "\u00e9", "#", "'", "\\"]) + s[pos:]
            elif op < 0.8 and s:
                s = s[:pos] + s[pos + 1:]
            else:
                s = s[:pos] + s[pos:pos + 1] * 2 + s[pos + 1:]
        return s
    return rng.choice([
        "", " ", ".", "-", "+", "-.", "+.", ".e1", "1e", "1e+", "1e-", "e5", "1.", ".5",
        "-.5", "+.5", "1.e5", "5.e-1", "1e 5", "1e\t-5", "1e +5", "1 e5", "1e5 x",
        "1e2147483647", "1e1073741822", "1e1073741823", "0e1073741822", "0e1073741823",
        "0e-1073741822", "1e-1073741823", "1e99999999999999999999", "0e-16383",
        "0e-16384", "1e-16383", "1e-16384", "5e131071", "1e131072", "0.00e131072",
        "NaN", "nan", " NaN ", "NaNx", "Infinity", "-Infinity", "+inf", "-INF", "inf x",
        "infinit", "Infinityx", "0x10", "1_000", "1,5", "١", "--1", "+-1", "1.2.3",
        "12345678901234567890.5e-16383", "0.5e-16382", "-0", "-0.000", "+0e10",
        "9999.99995e4", "1.000e1", "15e-1", "0000000000000000000000000001.1",
    ])


# ---------- exact reference for the rounding PostgreSQL lacks ----------

def frac(s):
    return Fraction(s.strip())


def round_frac(x, scale, mode):
    q = x * Fraction(10) ** scale
    fl = q.numerator // q.denominator
    rem = q - fl
    neg = q < 0
    trunc = fl + 1 if (neg and rem != 0) else fl
    if rem == 0:
        n = fl
    elif mode == "floor":
        n = fl
    elif mode == "ceil":
        n = fl + 1
    elif mode == "down":
        n = trunc
    else:
        mag = abs(q)
        base = mag.numerator // mag.denominator
        frac_part = mag - base
        half = Fraction(1, 2)
        if frac_part > half or (frac_part == half and (mode == "away" or base % 2 == 1)):
            base += 1
        n = -base if neg else base
    return fmt(n, scale)


def fmt(n, scale):
    """n * 10^-scale as numeric_out prints it with dscale max(scale, 0)"""
    if scale <= 0:
        return str(n * 10 ** (-scale))
    neg = n < 0
    s = str(abs(n)).rjust(scale + 1, "0")
    out = s[:-scale] + "." + s[-scale:]
    if neg and n != 0:
        out = "-" + out
    return out


# ---------- cases ----------

def cases():
    out = []

    def add(op, *args):
        out.append((op,) + tuple(str(a) for a in args))

    for _ in range(3000):
        add("add", number(), number())
    for _ in range(3000):
        add("sub", number(), number())
    for _ in range(3000):
        add("mul", number(), number())
    for _ in range(4000):
        r = rng.random()
        if r < 0.05:
            add("div", number(), rng.choice(["0", "0.000", "-0"]))
        elif r < 0.3:
            b = number()
            if frac(b) == 0:
                b = "7"
            c = number(rng.choice(["money", "medium", "boundary"]))
            # an exact quotient: a = b * c
            add("div", "EXACT:%s:%s" % (b, c), b)
        else:
            b = number()
            if frac(b) == 0:
                b = "3"
            add("div", number(), b)
    for _ in range(1500):
        b = number()
        if rng.random() < 0.03:
            b = "0"
        add("mod", number(), b)
    for _ in range(1000):
        b = number()
        if frac(b) == 0:
            b = "0.3"
        add("divint", number(), b)
    for _ in range(2500):
        a = number()
        r = rng.random()
        if r < 0.3:
            b = a
            if "." in b:
                b = b + "0" * rng.randint(1, 3)
        elif r < 0.4:
            b = "-" + a.lstrip("-")
        else:
            b = number()
        add("cmp", a, b)
    for _ in range(3000):
        s = scale_for(None)
        add("round", tie(s) if rng.random() < 0.5 else number(), s)
    for _ in range(1000):
        s = scale_for(None)
        add("trunc", number(), s)
    for _ in range(500):
        add("floor", number() if rng.random() < 0.8 else tie(0))
    for _ in range(500):
        add("ceil", number() if rng.random() < 0.8 else tie(0))
    for _ in range(500):
        add("abs", number())
    for _ in range(3000):
        add("in", text_input())
    for _ in range(800):
        add("float", number())
    for _ in range(500):
        a = rng.choice([number("money"), number("medium"), number("boundary"), tie(0),
                        rng.choice(["9223372036854775807", "9223372036854775807.4",
                                    "9223372036854775807.5", "-9223372036854775808",
                                    "-9223372036854775808.5", "-9223372036854775808.4",
                                    "9223372036854775808", "-9223372036854775809"])])
        add("int8", a)
    for _ in range(800):
        add("send", number())
    return out


def python_cases():
    """lines computed with exact rationals: banker's rounding, division at a scale"""
    out = []
    for _ in range(2500):
        s = scale_for(None)
        a = tie(s) if rng.random() < 0.6 else number()
        out.append(("roundeven", a, str(s), round_frac(frac(a), s, "even")))
    modes = ["even", "away", "down", "floor", "ceil"]
    for _ in range(2500):
        s = rng.choice([0, 1, 2, 2, 3, 4, 6, 10, 20, -1, -2])
        b = number(rng.choice(["money", "medium", "boundary", "sparse"]))
        if frac(b) == 0:
            b = "7"
        mode = rng.choice(modes)
        if rng.random() < 0.4:
            # a tie: a = (q + 1/2) * 10^-s * b
            q = Fraction(rng.randint(-10 ** 8, 10 ** 8)) + Fraction(1, 2)
            a = exact_text(q * Fraction(10) ** (-s) * frac(b))
        else:
            a = number()
        out.append(("divround", a, b, str(s), mode,
                    round_frac(frac(a) / frac(b), s, mode)))
    return out


def exact_text(x):
    """x (a fraction whose denominator divides a power of ten) as decimal text"""
    k = 0
    while (x * 10 ** k).denominator != 1:
        k += 1
    return fmt((x * 10 ** k).numerator, k)


# ---------- PostgreSQL ----------

UNARY = ("in", "floor", "ceil", "abs", "float", "int8", "send")

FUNC = r"""
CREATE FUNCTION pg_temp.t(op text, a text, b text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    x numeric;
    y numeric;
BEGIN
    IF op = 'in' THEN
        RETURN a::numeric::text;
    END IF;
    x := a::numeric;
    IF op IN ('add', 'sub', 'mul', 'div', 'mod', 'divint', 'cmp') THEN
        y := b::numeric;
    END IF;
    RETURN CASE op
        WHEN 'add' THEN (x + y)::text
        WHEN 'sub' THEN (x - y)::text
        WHEN 'mul' THEN (x * y)::text
        WHEN 'div' THEN (x / y)::text
        WHEN 'mod' THEN (x % y)::text
        WHEN 'divint' THEN div(x, y)::text
        WHEN 'cmp' THEN (CASE WHEN x < y THEN -1 WHEN x = y THEN 0 ELSE 1 END)::text
        WHEN 'round' THEN round(x, b::int)::text
        WHEN 'trunc' THEN trunc(x, b::int)::text
        WHEN 'floor' THEN floor(x)::text
        WHEN 'ceil' THEN ceil(x)::text
        WHEN 'abs' THEN abs(x)::text
        WHEN 'float' THEN x::float8::text
        WHEN 'int8' THEN x::int8::text
        WHEN 'send' THEN encode(numeric_send(x), 'hex')
    END;
EXCEPTION WHEN others THEN
    RETURN 'ERROR:' || SQLSTATE;
END
$$;
"""


def copy_escape(s):
    return (s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r").replace("\b", "\\b").replace("\f", "\\f")
            .replace("\v", "\\v"))


def copy_unescape(s):
    out = []
    i = 0
    table = {"t": "\t", "n": "\n", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "\\": "\\"}
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s):
            out.append(table[s[i + 1]])
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def run_pg(host, rows):
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o777)
        infile = os.path.join(tmp, "cases.txt")
        outfile = os.path.join(tmp, "results.txt")
        with open(infile, "w", encoding="utf-8") as f:
            for i, (op, a, b) in enumerate(rows):
                f.write("%d\t%s\t%s\t%s\n" % (i, op, copy_escape(a), copy_escape(b)))
        script = FUNC + (
            "CREATE TEMP TABLE cases (id int, op text, a text, b text);\n"
            "\\copy cases FROM '%s'\n"
            "\\copy (SELECT id, pg_temp.t(op, a, b) FROM cases ORDER BY id) TO '%s'\n"
        ) % (infile, outfile)
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", host,
                        "-U", "postgres", "-d", "postgres"],
                       input=script, text=True, check=True)
        results = {}
        with open(outfile, encoding="utf-8") as f:
            for line in f:
                i, r = line.rstrip("\n").split("\t", 1)
                results[int(i)] = copy_unescape(r)
        return [results[i] for i in range(len(rows))]


def main():
    host = sys.argv[1]
    version = subprocess.run(["psql", "-X", "-At", "-h", host, "-U", "postgres", "-c",
                              "SELECT version()"], text=True, check=True,
                             capture_output=True).stdout.strip()
    pg = cases()
    py = python_cases()

    # exact dividends for "EXACT:b:c" are b * c, computed by PostgreSQL too
    exact = [(i, c[1].split(":", 2)) for i, c in enumerate(pg) if c[1].startswith("EXACT:")]
    products = run_pg(host, [("mul", b, c) for _, (_, b, c) in exact])
    for (i, _), prod in zip(exact, products):
        pg[i] = ("div", prod, pg[i][2])

    rows = [(c[0], c[1], c[2] if len(c) > 2 else "") for c in pg]
    results = run_pg(host, rows)

    # text inputs whose value prints as thousands of digits (exponents near
    # the limits) would bloat the file; the unit test covers the limits
    kept = [(row, r) for row, r in zip(rows, results) if len(r) <= 1200]
    rows = [row for row, _ in kept]
    results = [r for _, r in kept]

    # check the rational reference against PostgreSQL where both apply
    checked = 0
    for (op, a, b), r in zip(rows, results):
        if op == "round" and not r.startswith("ERROR"):
            assert round_frac(frac(a), int(b), "away") == r, (a, b, r)
            checked += 1
        elif op == "trunc" and not r.startswith("ERROR"):
            assert round_frac(frac(a), int(b), "down") == r, (a, b, r)
            checked += 1
        elif op == "div" and not r.startswith("ERROR"):
            scale = len(r.partition(".")[2])
            assert round_frac(frac(a) / frac(b), scale, "away") == r, (a, b, r)
            checked += 1
    sys.stderr.write("rational reference agrees with PostgreSQL on %d lines\n" % checked)

    w = sys.stdout
    w.write("# Differential vectors for src/core/decimal.c (see SOURCE.txt).\n")
    w.write("# %s; generate.py seed %d\n" % (version, SEED))
    w.write("# op<TAB>operands...<TAB>expected; fields escaped as COPY text does\n")
    for (op, a, b), r in zip(rows, results):
        fields = [op, a] + ([] if op in UNARY else [b]) + [r]
        w.write("\t".join(copy_escape(f) for f in fields) + "\n")
    for c in py:
        w.write("\t".join(copy_escape(f) for f in c) + "\n")


if __name__ == "__main__":
    main()
