#!/usr/bin/env python3
"""Derives each injection rule's *required literals* (its prefilter) and writes them into rules.json.

    python3 scripts/derive-rule-anchors.py [--check-data ../shared/data/injection-dev.jsonl]

Why: the Swift runtime (HyperscanRuleSet) first scans a text with one cheap literal-only
Hyperscan database of these anchors, then runs only the rules whose anchors are all present,
each in its own small database. A rule's `requires` is a list of groups; each group is a list of
lower-case literals; **every match of the rule contains at least one literal of every group**
(case-insensitively). So the prefilter never changes which rules match: the scores are exactly
those of running every rule, only much cheaper on ordinary text (which rarely holds the anchors
of the expensive rules together).

How: the pattern is parsed with Python's own regex parser (re._parser) and walked:
- a maximal run of items that each match one of a few fixed strings (literals, small
  alternations of literals, optional literals, `\s`, zero-width assertions) gives the set of all
  strings the run can match: every match contains one of them;
- a variable item between two runs closes the first run extended by the strings the item must
  start with, and opens the next with the strings it must end with: `x{m,}` (m >= 1) starts and
  ends with m copies of x (`-{3,}` gives "---", `#{2,4}` gives "##", `cancel+ed` gives "cancel");
- a sub-pattern repeated at least once contributes its own groups; a repeat that can be empty
  contributes nothing;
- an alternation contributes groups made of one group per branch: the union of the strongest
  group of every branch, then the union of the second strongest (a branch with fewer reuses its
  weakest), and so on; nothing if one branch has none. So `system\s+prompt|hidden\s+prompt|…`
  gives the first words and also the second words;
- whitespace at a literal's ends is dropped (a substring of a literal is still in every match).
Groups are ranked by their shortest literal. Up to MAX_GROUPS groups of at least MIN_ANCHOR bytes
are kept (the longest); when a rule has fewer, the best shorter groups fill the places: 3+ bytes,
or punctuation only (`##`, `:`, `[`), never a short word or whitespace. So a rule whose only
strong group is a common word ("system", "instead", "end") also requires a rarer literal of its
pattern (`:`, `##`, its verbs, `---`). Measured on 1 KB English prompts, the anchor database
costs ~2 µs/KB this way and ~11 µs/KB with every 3-letter group ("the", "you", "all").
A rule with no group runs always.

This is sound by construction; --check-data re-verifies it on the training part of the data
(every rule match in the normalised text and its rot13/leetspeak views has its anchors), and the
Swift tests check it on the parity strings.
"""
import argparse
import hashlib
import json
import os
import re
import re._parser as sre
import sys
from re._constants import (AT, BRANCH, CATEGORY, CATEGORY_SPACE, IN, LITERAL, MAX_REPEAT, MIN_REPEAT, NEGATE, NOT_LITERAL,
                           RANGE, SUBPATTERN)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RULES = os.path.join(ROOT, "Plugins", "Sanitizer", "Core", "Model", "injection-model", "rules.json")
FLAGS = re.IGNORECASE | re.MULTILINE | re.ASCII
MIN_ANCHOR = 4          # bytes: shorter literals are everywhere
MAX_EXACT = 64          # strings: bigger fixed sets are not expanded
MAX_GROUPS = 2


# `\s` in both engines: Python with re.ASCII and Hyperscan in byte mode (no HS_FLAG_UTF8/UCP)
# match exactly these six bytes, so `\s` is a small fixed set like `[ab]`.
WHITESPACE = {" ", "\t", "\n", "\r", "\f", "\v"}


def is_space_class(op, av):
    return op == IN and av == [(CATEGORY, CATEGORY_SPACE)]


def exact(items):
    """The finite set of strings `items` (a parsed sequence) can match, or None."""
    out = {""}
    for op, av in items:
        if op == LITERAL:
            s = {chr(av).lower()}
        elif op == AT:
            s = {""}
        elif is_space_class(op, av):
            s = set(WHITESPACE)
        elif op == IN and len(av) <= 4 and all(o == LITERAL for o, _ in av):
            s = {chr(v).lower() for _, v in av}
        elif op == SUBPATTERN:
            s = exact(av[3])
        elif op == BRANCH:
            s = set()
            for b in av[1]:
                e = exact(b)
                if e is None:
                    return None
                s |= e
        elif op in (MAX_REPEAT, MIN_REPEAT) and av[1] <= 2:
            e = exact(av[2])
            if e is None:
                return None
            s = set()
            cur = {""}
            for k in range(av[1] + 1):
                if k >= av[0]:
                    s |= cur
                cur = {a + b for a in cur for b in e}
                if len(cur) > MAX_EXACT:
                    return None
        else:
            return None
        out = {a + b for a in out for b in s}
        if len(out) > MAX_EXACT:
            return None
    return out


def product(a, b):
    """All concatenations, or None when there are more than MAX_EXACT."""
    if a is None or b is None or len(a) * len(b) > MAX_EXACT:
        return None
    return {x + y for x in a for y in b}


def power(e, m):
    out = {""}
    for _ in range(m):
        out = product(out, e)
        if out is None:
            return None
    return out


def useful(s):
    """A prefix/suffix set that says something (no empty string)."""
    return s if s is not None and "" not in s else None


def strength(group):
    return min(len(s.encode("utf-8")) for s in group)


def minimal(group):
    """Drops literals that contain another literal of the group (the shorter one suffices)."""
    return sorted({s for s in group if not any(t != s and t in s for t in group)})


def item_info(item):
    """(groups, prefixes, suffixes) of one non-exact item: every match of it contains a string of
    each group, starts with one of `prefixes` and ends with one of `suffixes` (None: unknown)."""
    op, av = item
    if op == SUBPATTERN:
        return info(av[3])
    if op in (MAX_REPEAT, MIN_REPEAT) and av[0] >= 1:
        # x{m,n}, m >= 1: the first and the last m repetitions are whole matches of x.
        body = av[2]
        e = exact(body)
        if e is not None:
            ends = useful(power(e, av[0])) or useful(e)
            return ([ends] if ends else []), ends, ends
        return info(body)
    if op == BRANCH:
        infos = [info(b) for b in av[1]]
        ranked = [sorted((g for g in gs if "" not in g), key=strength, reverse=True) for gs, _, _ in infos]
        result = []
        if all(ranked):
            # Any choice of one group per branch gives a group of the alternation: the k-th
            # strongest of each branch (its weakest when it has fewer).
            for k in range(max(len(r) for r in ranked)):
                result.append(set().union(*(r[min(k, len(r) - 1)] for r in ranked)))
        prefixes = None if any(p is None for _, p, _ in infos) else set().union(*(p for _, p, _ in infos))
        suffixes = None if any(s is None for _, _, s in infos) else set().union(*(s for _, _, s in infos))
        return result, useful(prefixes), useful(suffixes)
    return [], None, None


def info(items):
    """(groups, prefixes, suffixes) of a sequence: see item_info.

    `cur` is a set of strings one of which ends every match of the items read so far (they are
    all contiguous in the match); a fixed item extends it, a variable one closes it (extended by
    the item's prefixes: it is a group) and starts a new one from the item's suffixes."""
    result = []
    cur = {""}
    prefixes = {""}
    open_prefix = True

    for item in items:
        e = exact([item])
        if e is not None:
            nxt = product(cur, e)
            if nxt is None:
                if "" not in cur:
                    result.append(cur)
                nxt = e
            cur = nxt
            if open_prefix:
                p = product(prefixes, e)
                if p is None:
                    open_prefix = False
                else:
                    prefixes = p
            continue
        gs, pre, suf = item_info(item)
        closed = product(cur, pre) if pre is not None else None
        closed = closed if closed is not None else cur
        if "" not in closed:
            result.append(closed)
        result.extend(gs)
        if open_prefix:
            p = product(prefixes, pre) if pre is not None else None
            prefixes = p if p is not None else prefixes
            open_prefix = False
        cur = suf if suf is not None else {""}
    if "" not in cur:
        result.append(cur)
    return result, useful(prefixes), useful(cur)


def groups(items):
    """A list of groups (sets of strings); every match of `items` contains one string of each."""
    return info(items)[0]


def secondary(group):
    """A group of short literals still worth a second place: 3+ bytes, or punctuation only
    (`##`, `:`, `---`: rare in prose, unlike short words or whitespace)."""
    return strength(group) >= 3 or all(s.strip() and not any(c.isalnum() or c.isspace() for c in s) for s in group)


def anchors(pattern):
    gs = []
    for g in groups(list(sre.parse(pattern, FLAGS))):
        # Whitespace at a literal's ends is dropped (a literal's substring is still in every
        # match): six variants of every word would swell the anchor database for little gain.
        g = {s.strip("".join(WHITESPACE)) for s in g}
        if "" in g:
            continue
        g = minimal(g)
        if g not in gs:
            gs.append(g)
    gs.sort(key=lambda g: (-strength(g), g))
    strong = [g for g in gs if strength(g) >= MIN_ANCHOR]
    if len(strong) >= MAX_GROUPS:
        return strong[:MAX_GROUPS]
    # Fewer strong groups than MAX_GROUPS: the best shorter ones fill the remaining places (a rule
    # whose only group is a common word such as "system" also requires a rarer short literal).
    rest = [g for g in gs if g not in strong and secondary(g)]
    return (strong + rest)[:MAX_GROUPS]


def satisfied(requires, text):
    return all(any(s in text for s in g) for g in requires)


def check(spec, path):
    """Every rule match in the train part's views has its anchors (held-out part not read)."""
    ROT13 = str.maketrans("abcdefghijklmnopqrstuvwxyz", "nopqrstuvwxyzabcdefghijklm")
    LEET = str.maketrans("013457@$", "oieastas")
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    import importlib.util
    loader = importlib.util.spec_from_file_location("train", os.path.join(ROOT, "scripts", "train-injection-model.py"))
    train = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(train)
    compiled = [(r, re.compile(r["pattern"], FLAGS)) for r in spec["rules"]]
    checked = violations = gated = 0
    with open(path, "rb") as f:
        for line in f:
            if not line.strip():
                continue
            text = json.loads(line)["text"]
            key = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")
            if key % 5 == 0:
                continue
            norm = train.normalise(text)
            for view in (norm, norm.translate(ROT13), norm.translate(LEET)):
                for rule, rx in compiled:
                    ok = satisfied(rule.get("requires", []), view)
                    gated += not ok
                    if rx.search(view):
                        checked += 1
                        if not ok:
                            violations += 1
                            print(f"VIOLATION {rule['id']}: {view[:80]!r}")
    print(f"check: {checked} rule matches, {violations} without their anchors; {gated} rule runs skipped")
    return violations == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check-data", help="verify on the train part of this JSONL file")
    args = ap.parse_args()
    with open(RULES, encoding="utf-8") as f:
        spec = json.load(f)
    for rule in spec["rules"]:
        rule["requires"] = anchors(rule["pattern"])
        print(f"{rule['id']:34s} " + " & ".join("{" + "|".join(g[:6]) + ("|…" if len(g) > 6 else "") + "}"
                                               for g in rule["requires"]) if rule["requires"] else f"{rule['id']:34s} (always)")
    with open(RULES, "w", encoding="utf-8") as f:
        f.write(json.dumps(spec, indent=1, ensure_ascii=False))
    if args.check_data and not check(spec, args.check_data):
        sys.exit("derive-rule-anchors: anchors missing in some rule matches")


if __name__ == "__main__":
    main()
