"""Every error code the API can answer is listed in src/api/error_codes.txt
(issue 16), the list the web app's translations are checked against
(web/assets/errors.js, es and en: the web tests).  The codes are read from
the C sources: the code argument of http_reply_error(), appt_refuse(),
public_book.c's refuse(), request.c's reply_error_extra(), the HTTP layer's
own refusals (http/precheck.c, guard.c), and the
"error": {"code": …} objects built by hand.  A code missing from the list,
or listed but no longer answered, fails."""
import pathlib
import re

from conftest import ROOT

SRC = pathlib.Path(ROOT) / "src"
LISTED = SRC / "api" / "error_codes.txt"
# function -> index of its code argument
CALLS = {"http_reply_error": 2, "appt_refuse": 3, "refuse": 3, "reply_error_extra": 2,
         "precheck_refuse": 2, "http_precheck_answer": 1}


def call_args(text, i):
    """The top-level arguments of the call whose '(' ends just before text[i]."""
    depth, cur, out, in_str, j = 0, [], [], False, i
    while j < len(text):
        c = text[j]
        if in_str:
            cur.append(c)
            if c == "\\":
                cur.append(text[j + 1])
                j += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
            cur.append(c)
        elif c == "(":
            depth += 1
            cur.append(c)
        elif c == ")":
            if depth == 0:
                out.append("".join(cur))
                return out
            depth -= 1
            cur.append(c)
        elif c == "," and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        j += 1
    return out


def answered_codes():
    codes, variable = set(), []
    for f in sorted(SRC.rglob("*.c")):
        text = f.read_text()
        for name, idx in CALLS.items():
            for m in re.finditer(r"\b" + name + r"\s*\(", text):
                args = call_args(text, m.end())
                if len(args) <= idx:
                    continue  # a declaration's parameter list, or a short call
                found = re.findall(r'"([a-z_]+)"', args[idx])
                codes.update(found)
                if not found:
                    variable.append((f.name, args[idx].strip()))
        codes.update(re.findall(r'"error",\s*"code",\s*"([a-z_]+)"', text))
    return codes, variable


def test_every_code_the_api_answers_is_listed_and_no_other():
    listed = [line.strip() for line in LISTED.read_text().splitlines() if line.strip()]
    assert listed == sorted(set(listed)), "error_codes.txt: one code a line, sorted, no repeats"
    codes, variable = answered_codes()
    assert len(codes) > 40, codes  # the reading of the sources works
    assert codes - set(listed) == set(), "answered but not in src/api/error_codes.txt"
    assert set(listed) - codes == set(), "listed but answered nowhere"
    # A code passed through a variable is only allowed in the helpers that take it.
    assert {name for name, _ in variable} <= {"appt.c", "public_book.c", "request.c",
                                              "precheck.c", "guard.c"}, variable
