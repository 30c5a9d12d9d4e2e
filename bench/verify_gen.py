#!/usr/bin/env python3
"""Writes the address list of the verification bench (issue 5).

    bench/verify_gen.py OUT [--count 1000000] [--seed 5] [--distinct-idn]

One address per line, separated by "\n" only (a CR inside a line is part of
the address: readers split on "\n", never on CR). Deterministic: the same
count and seed give the same bytes (random.Random(seed), no other entropy).

The mix, by share of lines (rounded):
  plain            58%  first.last / initials / name+digits at common
                        providers and generated company domains
  dotted/tagged    14%  a.b.c@, plus-tags (a+news@), hyphens, underscores
  role / typos      6%  postmaster@, noreply@ ...; gmial.com, hotmial.com,
                        yaho.com ... (typo domains are "risky", still valid)
  IDN / Unicode     5%  U-label domains (bücher.de, 例え.jp, пример.рф),
                        A-label domains, a few Unicode local parts
  quoted / literal  2%  "john doe"@, "a@b"@, user@[192.0.2.1]
  invalid          15%  double dots, leading/trailing dots, missing @,
                        two @, overlong local part / label / address,
                        spaces, CR, tabs, trailing hyphen labels,
                        numeric TLD, single-label domains, empty parts,
                        display names, commas
"""
import argparse
import random

FIRST = ["john", "mary", "li", "ana", "mohamed", "olga", "kenji", "sara",
         "pierre", "ingrid", "raj", "chen", "fatima", "lukas", "emma", "noah",
         "zoe", "ivan", "aiko", "carlos", "nina", "omar", "julia", "tom"]
LAST = ["smith", "garcia", "wang", "mueller", "rossi", "kowalski", "tanaka",
        "nguyen", "dubois", "silva", "jensen", "patel", "oconnor", "kim",
        "haddad", "novak", "berg", "lopez", "ivanova", "schmidt"]
PROVIDERS = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com",
             "icloud.com", "aol.com", "gmx.de", "web.de", "mail.ru",
             "yandex.ru", "protonmail.com", "live.com", "orange.fr",
             "libero.it", "qq.com", "163.com", "comcast.net", "btinternet.com"]
TYPOS = ["gmial.com", "gmai.com", "gmail.con", "gnail.com", "hotmial.com",
         "hotmail.co", "yaho.com", "yahooo.com", "outlok.com", "iclod.com",
         "gmail.cmo", "hotmal.com"]
TLDS = ["com", "net", "org", "de", "fr", "co.uk", "io", "nl", "com.br", "jp",
        "info", "biz", "ch", "se", "pl", "es", "it", "ca", "com.au"]
WORDS = ["acme", "globex", "initech", "umbrella", "stark", "wayne", "tyrell",
         "cyberdyne", "hooli", "vandelay", "wonka", "soylent", "aperture",
         "massive", "dynamic", "blue", "north", "river", "alpha", "delta"]
ROLES = ["postmaster", "noreply", "no-reply", "info", "sales", "support",
         "admin", "abuse", "webmaster", "hostmaster", "billing", "hr"]
IDN_DOMAINS = ["bücher.de", "münchen.de", "例え.jp", "пример.рф", "ñandú.es",
               "café.fr", "exämple.com", "παράδειγμα.gr", "xn--bcher-kva.de",
               "xn--mnchen-3ya.de", "xn--e1afmkfd.xn--p1ai", "中国.cn",
               "straße.de", "δοκιμή.gr"]
UNICODE_LOCALS = ["josé", "müller", "用户", "пользователь", "δοκιμή", "ñoño"]


def company_domain(r):
    w = r.choice(WORDS)
    if r.random() < 0.4:
        w += "-" + r.choice(WORDS)
    if r.random() < 0.2:
        w = r.choice(["mail.", "corp.", "eu.", "us."]) + w
    return w + "." + r.choice(TLDS)


def domain(r):
    return r.choice(PROVIDERS) if r.random() < 0.55 else company_domain(r)


def plain_local(r):
    f, l = r.choice(FIRST), r.choice(LAST)
    k = r.randrange(6)
    if k == 0:
        return f + "." + l
    if k == 1:
        return f[0] + l
    if k == 2:
        return f + l + str(r.randrange(100))
    if k == 3:
        return f + str(r.randrange(1950, 2010))
    if k == 4:
        return f.capitalize() + "." + l.capitalize()
    return l + "_" + f


def plain(r):
    return plain_local(r) + "@" + domain(r)


def dotted(r):
    f, l = r.choice(FIRST), r.choice(LAST)
    k = r.randrange(5)
    if k == 0:
        local = f + "." + r.choice("abcdefgh") + "." + l
    elif k == 1:
        local = f + "+" + r.choice(["news", "shop", "x", "2024", "a.b", "tag-1"])
    elif k == 2:
        local = f + "-" + l
    elif k == 3:
        local = f + "." + l + "+" + r.choice(["list", "z"])
    else:
        local = f + r.choice(["!", "#", "$", "%", "&", "'", "*", "/", "=", "?",
                              "^", "`", "{", "|", "}", "~"]) + l
    return local + "@" + domain(r)


def role_or_typo(r):
    if r.random() < 0.5:
        return r.choice(ROLES) + "@" + company_domain(r)
    return plain_local(r) + "@" + r.choice(TYPOS)


# --distinct-idn: every IDN domain gets its own subdomain (s1., s2., ...),
# so no two addresses share an IDN name (the worst case for deliverd's
# per-thread memo of IDN conversions). A counter, not the random stream, so
# everything else in the list stays the same.
DISTINCT_IDN = {"on": False, "next": 0}


def distinct(domain):
    if not DISTINCT_IDN["on"] or domain not in IDN_DOMAINS:
        return domain
    DISTINCT_IDN["next"] += 1
    return "s%d.%s" % (DISTINCT_IDN["next"], domain)


def idn(r):
    if r.random() < 0.8:
        return plain_local(r) + "@" + distinct(r.choice(IDN_DOMAINS))
    local = r.choice(UNICODE_LOCALS)
    return local + "@" + distinct(r.choice(IDN_DOMAINS + PROVIDERS))


def quoted(r):
    k = r.randrange(5)
    if k == 0:
        return '"' + r.choice(FIRST) + " " + r.choice(LAST) + '"@' + domain(r)
    if k == 1:
        return '"' + r.choice(FIRST) + '@home"@' + domain(r)
    if k == 2:
        return '"' + r.choice(FIRST) + '..' + r.choice(LAST) + '"@' + domain(r)
    if k == 3:
        return plain_local(r) + "@[192.0.2." + str(r.randrange(1, 255)) + "]"
    return plain_local(r) + "@[IPv6:2001:db8::" + str(r.randrange(1, 999)) + "]"


def invalid(r):
    good_local, good_domain = plain_local(r), domain(r)
    k = r.randrange(20)
    if k == 0:
        return good_local.replace(".", "..") + ".." + "x@" + good_domain
    if k == 1:
        return "." + good_local + "@" + good_domain
    if k == 2:
        return good_local + ".@" + good_domain
    if k == 3:
        return good_local + good_domain  # missing @
    if k == 4:
        return good_local + "@" + good_local + "@" + good_domain
    if k == 5:
        return "x" * r.randrange(65, 90) + "@" + good_domain
    if k == 6:
        return good_local + "@" + "a" * r.randrange(64, 80) + ".com"
    if k == 7:
        labels = ["l" + "x" * 40 for _ in range(r.randrange(6, 9))]
        return good_local + "@" + ".".join(labels) + ".com"
    if k == 8:
        return good_local + " " + r.choice(LAST) + "@" + good_domain
    if k == 9:
        return good_local + "@" + good_domain + "\r"
    if k == 10:
        return good_local + "\r@" + good_domain
    if k == 11:
        return good_local + "\t@" + good_domain
    if k == 12:
        return good_local + "@" + good_domain.replace(".", "..", 1)
    if k == 13:
        return good_local + "@" + r.choice(WORDS) + "-.com"
    if k == 14:
        return good_local + "@" + r.choice(WORDS) + ".123"
    if k == 15:
        return good_local + "@" + r.choice(["localhost", "intranet", "mail"])
    if k == 16:
        return "@" + good_domain if r.random() < 0.5 else good_local + "@"
    if k == 17:
        return r.choice(FIRST).capitalize() + " <" + good_local + "@" + \
            good_domain + ">"
    if k == 18:
        return good_local + "," + r.choice(LAST) + "@" + good_domain
    return good_local + "@" + r.choice(WORDS) + "_" + r.choice(WORDS) + ".com"


MIX = [(0.58, plain), (0.14, dotted), (0.06, role_or_typo), (0.05, idn),
       (0.02, quoted), (0.15, invalid)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--count", type=int, default=1000000)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--distinct-idn", action="store_true",
                    help="give every IDN address its own domain")
    args = ap.parse_args()
    DISTINCT_IDN["on"] = args.distinct_idn
    r = random.Random(args.seed)
    cumulative, acc = [], 0.0
    for share, fn in MIX:
        acc += share
        cumulative.append((acc, fn))
    with open(args.out, "w", encoding="utf-8", newline="\n") as out:
        for _ in range(args.count):
            x = r.random() * acc
            for bound, fn in cumulative:
                if x < bound:
                    break
            line = fn(r)
            assert "\n" not in line
            out.write(line + "\n")


if __name__ == "__main__":
    main()
