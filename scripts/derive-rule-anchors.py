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
  alternations of literals, optional literals, zero-width assertions) gives the set of all
  strings the run can match: every match contains one of them;
- a sub-pattern repeated at least once contributes its own groups; a repeat that can be empty
  contributes nothing;
- an alternation contributes one group: the union of the best group of every branch (nothing if
  one branch has none).
Groups whose shortest literal has fewer than MIN_ANCHOR bytes are dropped (too common to help)
unless the rule has no other group (then its best group of at least 3 bytes is kept); at most
MAX_GROUPS groups per rule are kept (the longest): measured on 1 KB English prompts, the anchor
database costs ~2 µs/KB this way and ~11 µs/KB with every 3-letter group ("the", "you", "all").
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
from re._constants import (AT, BRANCH, CATEGORY, IN, LITERAL, MAX_REPEAT, MIN_REPEAT, NEGATE, NOT_LITERAL,
                           RANGE, SUBPATTERN)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RULES = os.path.join(ROOT, "Plugins", "Sanitizer", "Core", "Model", "injection-model", "rules.json")
FLAGS = re.IGNORECASE | re.MULTILINE | re.ASCII
MIN_ANCHOR = 4          # bytes: shorter literals are everywhere
MAX_EXACT = 64          # strings: bigger fixed sets are not expanded
MAX_GROUPS = 2


def exact(items):
    """The finite set of strings `items` (a parsed sequence) can match, or None."""
    out = {""}
    for op, av in items:
        if op == LITERAL:
            s = {chr(av).lower()}
        elif op == AT:
            s = {""}
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


def strength(group):
    return min(len(s.encode("utf-8")) for s in group)


def minimal(group):
    """Drops literals that contain another literal of the group (the shorter one suffices)."""
    return sorted({s for s in group if not any(t != s and t in s for t in group)})


def groups(items):
    """A list of groups (sets of strings); every match of `items` contains one string of each."""
    result = []
    run = []

    def flush():
        if run:
            e = exact(run)
            if e is not None and "" not in e:
                result.append(e)
            run.clear()

    for item in items:
        op, av = item
        if exact([item]) is not None:
            run.append(item)
            continue
        flush()
        if op == SUBPATTERN:
            result.extend(groups(av[3]))
        elif op in (MAX_REPEAT, MIN_REPEAT) and av[0] >= 1:
            result.extend(groups(av[2]))
        elif op == BRANCH:
            union = set()
            for b in av[1]:
                gs = [g for g in groups(b) if "" not in g]
                if not gs:
                    union = None
                    break
                union |= max(gs, key=strength)
            if union:
                result.append(union)
    flush()
    return result


def anchors(pattern):
    gs = [minimal(g) for g in groups(list(sre.parse(pattern, FLAGS)))]
    gs = [g for g in gs if strength(g) >= 3]
    gs.sort(key=lambda g: (-strength(g), g))
    gs = [g for g in gs if strength(g) >= MIN_ANCHOR] or gs[:1]
    out = []
    for g in gs:
        if g not in out:
            out.append(g)
    return out[:MAX_GROUPS]


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
