#!/usr/bin/python3
"""python3-email-validator (Debian 12: 1.3.0) over the verification bench's
list, or its accuracy cases (issue 5; run by bench/verify_compare.sh).

    /usr/bin/python3 bench/verify_python.py LIST
    /usr/bin/python3 bench/verify_python.py --accuracy CASES

validate_email(address, check_deliverability=False) per address: valid when
it returns, invalid when it raises EmailNotValidError (any other exception
is counted as invalid and reported). Lines are split on "\n" only, as
verify_bench does; only the validation loop is timed. Output lines match
verify_bench's RESULT / ACCURACY / MISMATCH lines.
"""
import re
import sys
import time

from email_validator import EmailNotValidError, validate_email

NAME = "python-email-validator"
TOKEN = re.compile(r"<CR>|<LF>|<TAB>|<NUL>|<(.)\*(\d+)>")
SIMPLE = {"<CR>": "\r", "<LF>": "\n", "<TAB>": "\t", "<NUL>": "\0"}


def unescape(s):
    return TOKEN.sub(
        lambda m: SIMPLE.get(m.group(0)) or m.group(1) * int(m.group(2)), s)


def check(address):
    try:
        validate_email(address, check_deliverability=False)
        return True, ""
    except EmailNotValidError as e:
        return False, str(e)
    except Exception as e:  # noqa: BLE001 - counted, not hidden
        return False, "EXCEPTION %s: %s" % (type(e).__name__, e)


def run_list(path):
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    addresses = [l.decode("utf-8", "surrogateescape") for l in lines]
    n = len(addresses)
    valid = exceptions = 0
    start = time.perf_counter()
    for a in addresses:
        try:
            validate_email(a, check_deliverability=False)
            valid += 1
        except EmailNotValidError:
            pass
        except Exception:  # noqa: BLE001
            exceptions += 1
    seconds = time.perf_counter() - start
    print("RESULT name=%s n=%d seconds=%.3f rate=%.0f valid=%d invalid=%d"
          % (NAME, n, seconds, n / seconds, valid, n - valid))
    if exceptions:
        print("%s: %d addresses raised something other than "
              "EmailNotValidError (counted invalid)" % (NAME, exceptions))


def run_accuracy(path):
    total = agree = strict_total = strict_agree = 0
    with open(path, "rb") as f:
        for raw_line in f.read().split(b"\n"):
            line = raw_line.decode("utf-8")
            if not line or line.startswith("#") or "\t" not in line:
                continue
            parts = line.split("\t", 2)
            expected, raw = parts[0], parts[1]
            either = len(parts) > 2 and parts[2].startswith("either")
            ok, why = check(unescape(raw))
            got = "valid" if ok else "invalid"
            total += 1
            strict_total += not either
            if got == expected:
                agree += 1
                strict_agree += not either
            else:
                print("MISMATCH %s expected=%s got=%s (%s) %s%s"
                      % (NAME, expected, got, why[:60], raw,
                         "  [either]" if either else ""))
    print("ACCURACY name=%s agree=%d total=%d strict_agree=%d strict_total=%d"
          % (NAME, agree, total, strict_agree, strict_total))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--accuracy":
        run_accuracy(sys.argv[2])
    elif len(sys.argv) == 2:
        run_list(sys.argv[1])
    else:
        sys.exit("usage: verify_python.py LIST | --accuracy CASES")


if __name__ == "__main__":
    main()
