#!/usr/bin/env python3
"""Build Rampart's embedded default model, ``rampart-tiny``.

``rampart-tiny`` is a word-level, interpolated modified Kneser-Ney 4-gram language
model with its own lossless tokenizer (words + punctuation + whitespace pieces, with a
byte fallback). It is small and honest: an n-gram model, not a neural LLM.

What this script does, deterministically (same inputs -> byte-identical artifact):

1. Obtains the training corpus from Debian 12 packages with ``apt-get download`` (the
   only network access it needs is Debian's apt repositories) and unpacks them with
   ``dpkg-deb -x`` into a work directory (nothing is installed on the system, so
   ``path-exclude`` rules for /usr/share/doc in minimal images do not matter):

   * ``python3.11-doc``     - the Python documentation (PSF License Agreement v2)
   * ``postgresql-doc-15``  - the PostgreSQL manual (PostgreSQL License)
   * ``python-django-doc``  - the Django documentation (BSD-3-Clause)
   * ``sqlite3-doc``        - the SQLite documentation (public domain)

2. Extracts the prose paragraphs (HTML ``<p>`` elements outside code blocks and
   tables), normalises typography to ASCII, and keeps only clean English sentences
   (code identifiers, URLs, change-log references and numbers-heavy text are dropped).
3. Builds the tokenizer vocabulary (8,192 ids: 6 special tokens, 256 byte tokens and
   the 7,930 most frequent pieces).
4. Counts 1..4-grams, estimates an interpolated modified Kneser-Ney model (Chen &
   Goodman discounts D1, D2, D3+ per order), prunes rare higher-order n-grams,
   quantises the interpolation weights to 16 bits and reports held-out perplexity.
5. Writes ``Core/RampartBuiltinModel/Artifact/rampart-tiny/``:
   ``config.json``, ``tokenizer.json``, ``weights.bin``, ``NOTICE.txt`` and
   ``manifest.json`` (SHA-256 and size of every other file). The model version is
   ``1.0+`` followed by the first 12 hex digits of the SHA-256 of ``manifest.json``.

The binary format of ``weights.bin`` is documented in ``docs/BUILTIN_MODEL.md`` and in
``write_weights`` below. Only the Python 3.11 standard library is used.

Usage: python3 scripts/build-builtin-model.py [--work-dir DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import html
import html.parser
import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

# --------------------------------------------------------------------------------------
# Constants shared with the Swift runtime (Core/RampartBuiltinModel). Keep in sync.
# --------------------------------------------------------------------------------------

MODEL_NAME = "rampart-tiny"
MODEL_VERSION_PREFIX = "1.0"
FORMAT_VERSION = 1
ORDER = 4
VOCAB_SIZE = 8192
CONTEXT_LENGTH = 4096
QUANT_SCALE = 2048  # stored q -> weight = exp(-q / QUANT_SCALE)
ID_BITS = 13  # 2**13 == VOCAB_SIZE, for packing n-grams into Python ints

SPECIALS = ["<eos>", "<system>", "<user>", "<assistant>", "<tool>", "<retrieved>"]
EOS, SYSTEM, USER, ASSISTANT, TOOL, RETRIEVED = range(6)
ROLE_IDS = {SYSTEM, USER, ASSISTANT, TOOL, RETRIEVED}  # never generated
BYTE_BASE = len(SPECIALS)  # ids 6..261 are the bytes 0x00..0xFF
PIECE_BASE = BYTE_BASE + 256  # ids 262.. are text pieces

# Pruning: an n-gram entry of order k is kept when its (adjusted) count >= MIN_COUNT[k].
MIN_COUNT = {1: 1, 2: 1, 3: 2, 4: 2}
HELDOUT_EVERY = 50  # every 50th document is held out for the perplexity report
PARAGRAPHS_PER_DOCUMENT = 6

WEIGHTS_MAGIC = b"RMPTKNLM"

# --------------------------------------------------------------------------------------
# Corpus sources
# --------------------------------------------------------------------------------------

SOURCES = [
    {
        "package": "python3.11-doc",
        "root": "usr/share/doc/python3.11/html",
        "license": "PSF-2.0 (Python Software Foundation License Agreement)",
        "skip_dirs": {"_static", "_sources", "_downloads", "_images"},
        "skip_files": re.compile(
            r"^(genindex.*|py-modindex|search|contents|copyright|license|about|download)\.html$"
        ),
        "skip_paths": {"whatsnew/changelog.html"},
    },
    {
        "package": "postgresql-doc-15",
        "root": "usr/share/doc/postgresql-doc-15/html",
        "license": "PostgreSQL",
        "skip_dirs": set(),
        "skip_files": re.compile(r"^(release-.*|legalnotice|bookindex|index)\.html$"),
        "skip_paths": set(),
    },
    {
        "package": "python-django-doc",
        "root": "usr/share/doc/python-django-doc/html",
        "license": "BSD-3-Clause",
        "skip_dirs": {"_static", "_sources", "_images", "_modules", "releases"},
        "skip_files": re.compile(r"^(genindex.*|py-modindex|search|contents|index)\.html$"),
        "skip_paths": set(),
    },
    {
        "package": "sqlite3-doc",
        "root": "usr/share/doc/sqlite3",
        "license": "public-domain",
        "skip_dirs": {"releaselog", "images", "search.d"},
        "skip_files": re.compile(r"^(changes|chronology|index|docs|sitemap|news|copyright)\.html$"),
        "skip_paths": set(),
    },
]


def log(msg: str) -> None:
    print(f"[build-builtin-model] {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, check=False, capture_output=True, text=True,
                          env={**os.environ, "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C"})


def fetch_packages(work: Path) -> dict[str, dict]:
    """Downloads and unpacks the corpus packages; returns provenance per package."""
    debs = work / "debs"
    root = work / "root"
    debs.mkdir(parents=True, exist_ok=True)
    info: dict[str, dict] = {}
    for src in SOURCES:
        pkg = src["package"]
        existing = sorted(debs.glob(f"{pkg}_*.deb"))
        if not existing:
            res = run(["apt-get", "download", pkg], cwd=debs)
            if res.returncode != 0:
                log(f"apt-get download {pkg} failed ({res.stderr.strip()}); running apt-get update")
                upd = run(["apt-get", "update"])
                if upd.returncode != 0:
                    sys.exit(f"apt-get update failed: {upd.stderr.strip()}")
                res = run(["apt-get", "download", pkg], cwd=debs)
                if res.returncode != 0:
                    sys.exit(f"apt-get download {pkg} failed: {res.stderr.strip()}")
            existing = sorted(debs.glob(f"{pkg}_*.deb"))
        if len(existing) != 1:
            sys.exit(f"expected exactly one {pkg} .deb in {debs}, found {len(existing)}; "
                     f"delete the work directory and retry")
        deb = existing[0]
        version = run(["dpkg-deb", "-f", str(deb), "Version"]).stdout.strip()
        marker = root / f".{pkg}.unpacked"
        if not marker.exists():
            root.mkdir(parents=True, exist_ok=True)
            res = run(["dpkg-deb", "-x", str(deb), str(root)])
            if res.returncode != 0:
                sys.exit(f"dpkg-deb -x {deb} failed: {res.stderr.strip()}")
            marker.write_text(version)
        info[pkg] = {
            "package": pkg,
            "version": version,
            "deb_sha256": hashlib.sha256(deb.read_bytes()).hexdigest(),
            "license": src["license"],
        }
        log(f"corpus package {pkg} {version}")
    return info


# --------------------------------------------------------------------------------------
# Text extraction and cleaning
# --------------------------------------------------------------------------------------


class ParagraphExtractor(html.parser.HTMLParser):
    """Collects the text of <p> elements that are not inside code blocks or tables."""

    SKIP = {"pre", "script", "style", "table", "code-block"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._current: list[str] | None = None
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self._skip += 1
        elif tag == "p" and self._skip == 0:
            self._current = []

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag == "p" and self._current is not None:
            self.paragraphs.append("".join(self._current))
            self._current = None

    def handle_data(self, data):
        if self._current is not None and self._skip == 0:
            self._current.append(data)


TYPOGRAPHY = {
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
    "\u2014": " - ", "\u2026": "...", "\u00a0": " ", "\u00b6": "", "\u2212": "-",
    "\u00d7": "x", "\u2192": "->", "\u00e9": "e", "\u00e8": "e", "\u00fc": "u",
    "\u00f6": "o", "\u00e4": "a", "\u200b": "",
}
TYPO_RE = re.compile("|".join(map(re.escape, TYPOGRAPHY)))
DROP_PARENS = re.compile(
    r"\((?:source|checked-by|matrix|Contributed by|See|see|Patch by)[^()]*\)")
SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
PLAIN_WORD = re.compile(r"""^["(]?(?:[A-Za-z]+(?:['-][A-Za-z]+)*|[0-9]{1,4})[)"]?[,.;:!?]?[)"]?$""")
ABBREVIATIONS = [("e.g.", "for example"), ("i.e.", "that is"), ("E.g.", "For example"),
                 ("I.e.", "That is"), ("etc.)", "and so on)"), ("vs.", "versus")]
BAD_CHARS = re.compile(r"""[_{}\[\]<>=|\\`@#$%^~*/+&]|\.\w|\(\)|\w\(|::|\bhttps?\b|bpo-|gh-|>>>""")


def clean_sentence(sentence: str) -> str | None:
    words = sentence.split(" ")
    if not 4 <= len(words) <= 48:
        return None
    if not sentence[0].isupper() or sentence[-1] not in ".!?":
        return None
    if BAD_CHARS.search(sentence):
        return None
    plain = sum(1 for w in words if PLAIN_WORD.match(w))
    if plain < 0.9 * len(words):
        return None
    if sentence.count('"') % 2 or sentence.count("(") != sentence.count(")"):
        return None
    return sentence


def clean_paragraph(text: str) -> list[str]:
    text = TYPO_RE.sub(lambda m: TYPOGRAPHY[m.group(0)], text)
    text = DROP_PARENS.sub("", text)
    for abbreviation, replacement in ABBREVIATIONS:
        text = text.replace(abbreviation + ",", replacement).replace(abbreviation, replacement)
    text = " ".join(text.split())
    text = text.replace(" .", ".").replace(" ,", ",")
    if not text or not text.isascii():
        return []
    out = []
    for sentence in SENTENCE_SPLIT.split(text):
        kept = clean_sentence(sentence)
        if kept is not None:
            out.append(kept)
    return out


def extract_corpus(work: Path) -> list[str]:
    """Returns training documents in a deterministic order: runs of up to
    PARAGRAPHS_PER_DOCUMENT consecutive clean paragraphs of one page, separated by a
    blank line (so the model learns paragraph breaks and <eos> ends a longer text)."""
    documents: list[str] = []
    paragraph_count = 0
    for src in SOURCES:
        base = work / "root" / src["root"]
        if not base.is_dir():
            sys.exit(f"{base} is missing after unpacking {src['package']}")
        files = []
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if d not in src["skip_dirs"])
            for name in filenames:
                path = Path(dirpath) / name
                rel = path.relative_to(base).as_posix()
                if (not name.endswith(".html") or src["skip_files"].match(name)
                        or rel in src["skip_paths"] or path.is_symlink()):
                    continue
                files.append((rel, path))
        files.sort()
        before = paragraph_count
        for _, path in files:
            parser = ParagraphExtractor()
            parser.feed(path.read_text(encoding="utf-8", errors="replace"))
            parser.close()
            page = []
            for para in parser.paragraphs:
                sentences = clean_paragraph(para)
                if sentences:
                    page.append(" ".join(sentences))
            paragraph_count += len(page)
            for start in range(0, len(page), PARAGRAPHS_PER_DOCUMENT):
                documents.append("\n\n".join(page[start:start + PARAGRAPHS_PER_DOCUMENT]))
        log(f"{src['package']}: {len(files)} pages, {paragraph_count - before} paragraphs")
    return documents


# --------------------------------------------------------------------------------------
# Tokenizer (mirrors Core/RampartBuiltinModel/Tokenizer.swift)
# --------------------------------------------------------------------------------------


def char_class(ch: str) -> str:
    o = ord(ch)
    if o >= 128:
        return "U"  # any non-ASCII scalar
    if 65 <= o <= 90 or 97 <= o <= 122:
        return "L"
    if 48 <= o <= 57:
        return "D"
    if ch in " \t\n\r":
        return "W"
    return "P"  # ASCII punctuation, symbols and control characters


def core_end(text: str, i: int) -> int:
    c = char_class(text[i])
    if c == "P":
        return i + 1
    j = i + 1
    while j < len(text) and char_class(text[j]) == c:
        j += 1
    return j


def pretokenize(text: str) -> list[str]:
    """Splits text into pieces. A single space attaches to the core piece after it."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if char_class(ch) == "W":
            if ch == " " and i + 1 < n and char_class(text[i + 1]) != "W":
                j = core_end(text, i + 1)
            elif ch == "\n":
                j = i + 1
                while j < n and text[j] == "\n":
                    j += 1
            else:
                j = i + 1
        else:
            j = core_end(text, i)
        out.append(text[i:j])
        i = j
    return out


class Tokenizer:
    def __init__(self, pieces: list[str]):
        self.pieces = pieces
        self.piece_ids = {p.encode("utf-8"): PIECE_BASE + i for i, p in enumerate(pieces)}
        self.max_len = max(len(k) for k in self.piece_ids)
        self.cache: dict[str, tuple[int, ...]] = {}

    def encode_piece(self, piece: str) -> tuple[int, ...]:
        hit = self.cache.get(piece)
        if hit is not None:
            return hit
        b = piece.encode("utf-8")
        known = self.piece_ids.get(b)
        if known is not None:
            out: tuple[int, ...] = (known,)
        else:  # greedy longest match over the pieces, then single bytes
            ids = []
            i = 0
            while i < len(b):
                for length in range(min(self.max_len, len(b) - i), 0, -1):
                    pid = self.piece_ids.get(b[i:i + length])
                    if pid is not None:
                        ids.append(pid)
                        i += length
                        break
                else:
                    ids.append(BYTE_BASE + b[i])
                    i += 1
            out = tuple(ids)
        self.cache[piece] = out
        return out

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        for piece in pretokenize(text):
            ids.extend(self.encode_piece(piece))
        return ids

    def decode(self, ids: list[int]) -> str:
        buf = bytearray()
        for t in ids:
            if BYTE_BASE <= t < PIECE_BASE:
                buf.append(t - BYTE_BASE)
            elif t >= PIECE_BASE:
                buf += self.pieces[t - PIECE_BASE].encode("utf-8")
        return buf.decode("utf-8", errors="replace")


def build_vocabulary(documents: list[str]) -> list[str]:
    counts: Counter = Counter()
    for document in documents:
        counts.update(pretokenize(document))
    capacity = VOCAB_SIZE - PIECE_BASE
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].encode("utf-8")))
    # Always keep the whitespace pieces so that formatting in prompts stays cheap.
    extras = ["\n", "\n\n", " ", "\t"]
    pieces = [p for p, _ in ranked if p not in extras][:capacity - len(extras)] + extras
    chosen = set(pieces)
    covered = sum(c for p, c in ranked if p in chosen)
    total = sum(counts.values())
    log(f"{len(counts)} distinct pieces; vocabulary covers {covered / total:.2%} of {total} pieces")
    return pieces


# --------------------------------------------------------------------------------------
# Interpolated modified Kneser-Ney
# --------------------------------------------------------------------------------------

MASK = (1 << ID_BITS) - 1


def unpack(key: int, k: int) -> tuple[int, ...]:
    return tuple((key >> (ID_BITS * (k - 1 - j))) & MASK for j in range(k))


def count_ngrams(sequences: list[list[int]]) -> dict[int, Counter]:
    """Raw counts of all valid k-grams (k = 1..ORDER) inside each sequence.

    Every sequence is ``<assistant> tokens... <eos>``; n-grams never cross sequences and
    never predict a role marker.
    """
    raw: dict[int, Counter] = {}
    flat = [t for seq in sequences for t in seq]
    # A k-gram is valid when no <eos> precedes its last token and no <assistant> (which
    # only starts a sequence) follows its first token; those are exactly the k-grams
    # inside one sequence that do not predict a role marker.
    for k in range(1, ORDER + 1):
        cols = [flat[j:len(flat) - k + 1 + j] for j in range(k)]
        keys = []
        append = keys.append
        for gram in zip(*cols):
            if gram[-1] in ROLE_IDS or EOS in gram[:-1] or ASSISTANT in gram[1:]:
                continue
            key = 0
            for t in gram:
                key = (key << ID_BITS) | t
            append(key)
        raw[k] = Counter(keys)
    return raw


def adjusted_counts(raw: dict[int, Counter]) -> dict[int, dict[int, int]]:
    """Kneser-Ney counts: raw counts at the top order and for n-grams starting at the
    sequence start (<assistant>); continuation counts N1+(. g) otherwise."""
    adjusted: dict[int, dict[int, int]] = {ORDER: dict(raw[ORDER])}
    for k in range(ORDER - 1, 0, -1):
        cont: Counter = Counter()
        mask = (1 << (ID_BITS * k)) - 1
        for key in raw[k + 1]:
            cont[key & mask] += 1
        start_shift = ID_BITS * (k - 1)
        adj = {}
        for key, count in raw[k].items():
            if (key >> start_shift) == ASSISTANT:
                adj[key] = count
            else:
                adj[key] = cont[key]
        adjusted[k] = adj
    return adjusted


def discounts(adj: dict[int, int]) -> tuple[float, float, float]:
    n = Counter(c for c in adj.values() if c <= 4)
    n1, n2, n3, n4 = (n.get(i, 0) for i in (1, 2, 3, 4))
    if min(n1, n2, n3, n4) == 0:
        return (0.5, 1.0, 1.5)
    y = n1 / (n1 + 2 * n2)
    d1 = 1 - 2 * y * n2 / n1
    d2 = 2 - 3 * y * n3 / n2
    d3 = 3 - 4 * y * n4 / n3
    return (min(max(d1, 0.05), 0.95), min(max(d2, 0.05), 1.95), min(max(d3, 0.05), 2.95))


def quantize(alpha: float) -> int:
    # ceil keeps the dequantised weight <= the exact one, so gamma stays >= 0.
    return min(65535, max(0, math.ceil(-math.log(alpha) * QUANT_SCALE - 1e-9)))


DEQUANT = [math.exp(-q / QUANT_SCALE) for q in range(65536)]


def estimate(adjusted: dict[int, dict[int, int]]):
    """Returns (unigram probabilities, per-order context tables, discounts)."""
    all_discounts = {k: discounts(adjusted[k]) for k in range(1, ORDER + 1)}
    log("discounts " + ", ".join(
        f"order {k}: " + "/".join(f"{d:.3f}" for d in all_discounts[k]) for k in all_discounts))

    # Order 1, interpolated with the uniform distribution over generatable tokens.
    d1 = all_discounts[1]
    adj1 = adjusted[1]
    total = sum(adj1.values())
    gen_count = VOCAB_SIZE - len(ROLE_IDS)
    alpha1 = {key: (c - d1[min(c, 3) - 1]) / total for key, c in adj1.items()}
    gamma0 = 1.0 - math.fsum(alpha1.values())
    unigram = [0.0] * VOCAB_SIZE
    for t in range(VOCAB_SIZE):
        if t not in ROLE_IDS:
            unigram[t] = alpha1.get(t, 0.0) + gamma0 / gen_count

    # Orders 2..ORDER: contexts of length 1..ORDER-1.
    tables: dict[int, dict[tuple[int, ...], tuple[float, list[tuple[int, int]]]]] = {}
    for k in range(2, ORDER + 1):
        d = all_discounts[k]
        by_context: dict[tuple[int, ...], list[tuple[int, int]]] = {}
        for key, c in adjusted[k].items():
            gram = unpack(key, k)
            by_context.setdefault(gram[:-1], []).append((gram[-1], c))
        table = {}
        for ctx, followers in by_context.items():
            ctotal = sum(c for _, c in followers)
            kept = []
            for w, c in followers:
                if c >= MIN_COUNT[k]:
                    kept.append((w, quantize((c - d[min(c, 3) - 1]) / ctotal)))
            if not kept:
                continue
            kept.sort()
            gamma = 1.0 - math.fsum(DEQUANT[q] for _, q in kept)
            table[ctx] = (max(0.0, gamma), kept)
        tables[k] = table
        log(f"order {k}: {len(by_context)} contexts, {len(table)} kept, "
            f"{sum(len(v[1]) for v in table.values())} entries")
    return unigram, tables, all_discounts


def build_trie(tables):
    """Lays the context tables out as a reversed-context trie, depth d = context length."""
    depth_contexts: dict[int, set] = {d: set() for d in range(1, ORDER)}
    for k, table in tables.items():
        for ctx in table:
            depth_contexts[k - 1].add(ctx)
    # Every suffix of a stored context must exist as a trie path.
    for d in range(ORDER - 1, 1, -1):
        for ctx in depth_contexts[d]:
            depth_contexts[d - 1].add(ctx[1:])
    levels = []
    for d in range(1, ORDER):
        # Sorting by the reversed context groups siblings (same parent, i.e. same
        # shorter context) together, in the parent's order, sorted by the new token.
        ordered = sorted(depth_contexts[d], key=lambda c: tuple(reversed(c)))
        table = tables[d + 1]
        node_tokens, entry_counts, entry_tokens, entry_q, gammas = [], [], [], [], []
        for ctx in ordered:
            node_tokens.append(ctx[0])  # the token that extends the parent to the left
            gamma, kept = table.get(ctx, (1.0, []))
            gammas.append(gamma)
            entry_counts.append(len(kept))
            for w, q in kept:
                entry_tokens.append(w)
                entry_q.append(q)
        level = {"contexts": ordered, "node_tokens": node_tokens, "gammas": gammas,
                 "entry_counts": entry_counts, "entry_tokens": entry_tokens, "entry_q": entry_q}
        if d > 1:
            prev = levels[-1]
            index = {ctx: i for i, ctx in enumerate(prev["contexts"])}
            child_counts = [0] * len(prev["contexts"])
            for ctx in ordered:
                child_counts[index[ctx[1:]]] += 1
            prev["child_counts"] = child_counts
        levels.append(level)
    for lv in levels:
        assert max(lv["entry_counts"], default=0) <= 0xFFFF
        assert max(lv.get("child_counts", [0]), default=0) <= 0xFFFF
    return levels


def write_weights(path: Path, unigram: list[float], levels) -> None:
    """Writes weights.bin. All integers and floats are little-endian; no padding.

    header (28 + 8 * (N - 1) bytes):
        magic "RMPTKNLM" | u32 format_version (1) | u32 order N | u32 vocab_size V |
        u32 quant_scale S | u32 reserved (0) |
        u32 node_count[d] for d = 1..N-1 | u32 entry_count[d] for d = 1..N-1
    sections, in this order:
        f32 unigram[V]                    p(w) with no context (0 for role markers)
        for d = 1..N-1:
            u16 node_token[n_d]           strictly ascending among siblings
            u16 node_entry_count[n_d]     sums to m_d
            u16 node_child_count[n_d]     only for d < N-1; sums to n_(d+1)
            u16 entry_token[m_d]          strictly ascending within a node
            u16 entry_q[m_d]              alpha = exp(-q / S)
    A depth-1 node is a one-token context (children of the implicit root, ascending by
    token); the children of a depth-d node extend its context by one token to the left.
    Nodes, their entries and their children are stored in node order, so offsets are
    prefix sums of the counts. The backoff weight of a node is derived, not stored:
    gamma(h) = 1 - sum of its alphas, so every conditional distribution sums to one.
    p(w | h) = alpha(h, w) + gamma(h) * p(w | h without its oldest token).
    """
    n = len(levels) + 1
    out = bytearray()
    out += WEIGHTS_MAGIC
    out += struct.pack("<5I", FORMAT_VERSION, n, VOCAB_SIZE, QUANT_SCALE, 0)
    out += struct.pack(f"<{n - 1}I", *[len(lv["node_tokens"]) for lv in levels])
    out += struct.pack(f"<{n - 1}I", *[len(lv["entry_tokens"]) for lv in levels])
    out += struct.pack(f"<{VOCAB_SIZE}f", *unigram)
    for d, lv in enumerate(levels, start=1):
        out += struct.pack(f"<{len(lv['node_tokens'])}H", *lv["node_tokens"])
        out += struct.pack(f"<{len(lv['entry_counts'])}H", *lv["entry_counts"])
        if d < n - 1:
            out += struct.pack(f"<{len(lv['child_counts'])}H", *lv["child_counts"])
        out += struct.pack(f"<{len(lv['entry_tokens'])}H", *lv["entry_tokens"])
        out += struct.pack(f"<{len(lv['entry_q'])}H", *lv["entry_q"])
    path.write_bytes(bytes(out))


def f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


def heldout_perplexity(unigram, levels, sequences) -> tuple[float, int]:
    """Perplexity of the stored (quantised, float32) model on held-out sequences."""
    lookup = []
    for lv in levels:
        table = {}
        offset = 0
        for i, ctx in enumerate(lv["contexts"]):
            count = lv["entry_counts"][i]
            entries = {lv["entry_tokens"][e]: DEQUANT[lv["entry_q"][e]]
                       for e in range(offset, offset + count)}
            offset += count
            table[ctx] = (f32(lv["gammas"][i]), entries)
        lookup.append(table)
    total_log = 0.0
    count = 0
    for seq in sequences:
        for i in range(1, len(seq)):
            w = seq[i]
            p = f32(unigram[w])
            for d in range(1, ORDER):
                if i - d < 0:
                    break
                node = lookup[d - 1].get(tuple(seq[i - d:i]))
                if node is None:
                    break
                p = node[0] * p + node[1].get(w, 0.0)
            total_log += math.log(max(p, 1e-30))
            count += 1
    return math.exp(-total_log / max(count, 1)), count


# --------------------------------------------------------------------------------------
# Artifact writing
# --------------------------------------------------------------------------------------


def dumps(obj) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=True) + "\n").encode("ascii")


def notice_text(work: Path, info: dict[str, dict]) -> str:
    root = work / "root"
    py_version = info["python3.11-doc"]["version"].split("-")[0]
    lic = (root / "usr/share/doc/python3.11/html/_sources/license.rst.txt").read_text()
    start = lic.index("PSF LICENSE AGREEMENT FOR PYTHON")
    end = lic.index("BEOPEN.COM LICENSE AGREEMENT")
    psf = lic[start:end].replace("|release|", py_version)
    psf = psf.replace(".. parsed-literal::", "").replace(".. _BeOpen:", "")
    psf = "\n".join(line.rstrip() for line in psf.splitlines()).strip()
    psf = re.sub(r"\n{3,}", "\n\n", psf)
    pg_html = (root / "usr/share/doc/postgresql-doc-15/html/legalnotice.html").read_text()
    pg = html.unescape(re.sub(r"<[^>]+>", "", pg_html))
    pg = pg.translate(str.maketrans({"\u201c": '"', "\u201d": '"', "\u00a9": "(c)"}))
    pg = "\n".join(" ".join(line.split()) for line in pg.splitlines())
    pg = re.sub(r"\n{3,}", "\n\n", pg).strip()
    pg = pg[pg.index("PostgreSQL Database Management System"):]
    psf = psf.replace("\u00a9", "(c)")
    notice_match = re.search(r'"(Copyright \(c\) [^"]*?Reserved)"', psf)
    if notice_match is None:
        sys.exit("could not find the PSF copyright notice in license.rst.txt")
    psf_notice = " ".join(notice_match.group(1).split())
    dj = (root / "usr/share/doc/python-django-doc/copyright").read_text()
    start = dj.rindex("\nLicense: BSD-3-Clause\n ") + len("\nLicense: BSD-3-Clause\n")
    bsd_lines = []
    for line in dj[start:].splitlines():
        if not line.startswith(" "):
            break
        bsd_lines.append("" if line.strip() == "." else line[1:])
    bsd = "\n".join(bsd_lines).replace("<NAME>", "Django")
    lines = [
        "rampart-tiny: an interpolated modified Kneser-Ney 4-gram language model.",
        "",
        "The weights and vocabulary were derived (by statistical counting) from prose",
        "paragraphs of the following documentation, as shipped in Debian 12 packages:",
        "",
    ]
    for src in SOURCES:
        p = info[src["package"]]
        lines.append(f"  * {p['package']} {p['version']} - license: {p['license']}")
    lines += [
        "",
        "Summary of changes (PSF License Agreement, clause 3): the documentation text was",
        "reduced to cleaned English sentences, tokenized and turned into n-gram counts,",
        "then into pruned, quantised probabilities; no documentation text is shipped",
        "verbatim apart from short n-grams. Built by scripts/build-builtin-model.py.",
        "",
        "=" * 78,
        "Python documentation",
        psf_notice,
        "",
        psf,
        "",
        "=" * 78,
        "PostgreSQL documentation",
        "",
        pg,
        "",
        "=" * 78,
        "Django documentation",
        "Copyright (c) Django Software Foundation and individual contributors.",
        "All rights reserved.",
        "",
        bsd,
        "",
        "=" * 78,
        "SQLite documentation",
        "",
        "The SQLite documentation is in the public domain (D. Richard Hipp and others).",
        "",
    ]
    text = "\n".join(lines)
    if not text.isascii():
        text = text.encode("ascii", "replace").decode("ascii")
    return text


def write_artifact(out_dir: Path, files: dict[str, bytes]) -> str:
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    entries = []
    for name in sorted(files):
        data = files[name]
        (out_dir / name).write_bytes(data)
        entries.append({"path": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)})
    manifest = dumps({"format": "rampart-model-manifest/1", "name": MODEL_NAME, "files": entries})
    (out_dir / "manifest.json").write_bytes(manifest)
    return f"{MODEL_VERSION_PREFIX}+{hashlib.sha256(manifest).hexdigest()[:12]}"


def main() -> None:
    repo = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/rampart-builtin-model"),
                        help="download/unpack directory (reused between runs)")
    parser.add_argument("--out", type=Path,
                        default=repo / "Core/RampartBuiltinModel/Artifact" / MODEL_NAME,
                        help="artifact output directory (replaced)")
    args = parser.parse_args()
    started = time.monotonic()

    info = fetch_packages(args.work_dir)
    documents = extract_corpus(args.work_dir)
    corpus_hash = hashlib.sha256("\f".join(documents).encode()).hexdigest()
    log(f"{len(documents)} documents, {sum(len(d.split()) for d in documents)} words, "
        f"corpus sha256 {corpus_hash[:16]}")

    pieces = build_vocabulary(documents)
    tok = Tokenizer(pieces)
    train, heldout = [], []
    byte_tokens = total_tokens = 0
    for i, document in enumerate(documents):
        ids = tok.encode(document)
        byte_tokens += sum(1 for t in ids if t < PIECE_BASE)
        total_tokens += len(ids)
        seq = [ASSISTANT] + ids + [EOS]
        (heldout if i % HELDOUT_EVERY == HELDOUT_EVERY - 1 else train).append(seq)
    log(f"{total_tokens} tokens ({byte_tokens / total_tokens:.2%} byte tokens); "
        f"{len(train)} training / {len(heldout)} held-out documents")

    raw = count_ngrams(train)
    adjusted = adjusted_counts(raw)
    del raw
    unigram, tables, all_discounts = estimate(adjusted)
    del adjusted
    levels = build_trie(tables)
    perplexity, eval_tokens = heldout_perplexity(unigram, levels, heldout)
    log(f"held-out perplexity {perplexity:.1f} over {eval_tokens} tokens")

    weights_path = args.work_dir / "weights.bin"
    write_weights(weights_path, unigram, levels)
    weights = weights_path.read_bytes()

    tokenizer = {
        "format": "rampart-tokenizer/1",
        "pretokenizer": "rampart-ascii-v1",
        "specials": SPECIALS,
        "byte_fallback": {"first_id": BYTE_BASE, "count": 256},
        "pieces_first_id": PIECE_BASE,
        "pieces": pieces,
    }
    config = {
        "name": MODEL_NAME,
        "format_version": FORMAT_VERSION,
        "version_prefix": MODEL_VERSION_PREFIX,
        "architecture": "interpolated-modified-kneser-ney-ngram",
        "order": ORDER,
        "vocab_size": VOCAB_SIZE,
        "context_length": CONTEXT_LENGTH,
        "quant_scale": QUANT_SCALE,
        "discounts": {str(k): list(v) for k, v in all_discounts.items()},
        "prune_min_count": {str(k): v for k, v in MIN_COUNT.items()},
        "files": {"tokenizer": "tokenizer.json", "weights": "weights.bin", "notice": "NOTICE.txt"},
        "version_scheme": f"{MODEL_VERSION_PREFIX}+<first 12 hex digits of sha256(manifest.json)>",
        "training": {
            "corpus": [info[s["package"]] for s in SOURCES],
            "corpus_sha256": corpus_hash,
            "documents": len(documents),
            "paragraphs_per_document": PARAGRAPHS_PER_DOCUMENT,
            "tokens": total_tokens,
            "heldout_every": HELDOUT_EVERY,
            "heldout_tokens": eval_tokens,
            "heldout_perplexity": round(perplexity, 2),
        },
    }
    files = {
        "config.json": dumps(config),
        "tokenizer.json": dumps(tokenizer),
        "weights.bin": weights,
        "NOTICE.txt": notice_text(args.work_dir, info).encode("ascii"),
    }
    version = write_artifact(args.out, files)
    size = sum(p.stat().st_size for p in args.out.iterdir())
    log(f"wrote {args.out} ({size} bytes), version {version}, "
        f"in {time.monotonic() - started:.0f} s")
    print(version)


if __name__ == "__main__":
    main()
