"""Builds the moescope training corpus from installed Debian packages (see build_corpus.sh,
which installs them) plus generated maths.

For each domain: extract documents from every source, normalise (NFC, no control characters),
filter (too short, mostly non-letters, wrong script or language, mojibake), drop paragraphs in
another language, deduplicate lines and documents (exact and near-exact), then balance the
sources inside the domain and the domains against each other by sampling documents with a
fixed seed, and write data/corpus/<domain>/{train,val}.txt plus data/corpus/stats.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import sys
import time
import unicodedata
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import maths_gen  # noqa: E402
import sources as src  # noqa: E402
import textclean as tc  # noqa: E402

LANG_OF_DOMAIN = {"english": "en", "german": "de", "french": "fr", "spanish": "es",
                  "russian": "ru"}


@dataclass
class Rejects:
    short: int = 0
    letters: int = 0
    language: int = 0
    mojibake: int = 0
    duplicate: int = 0
    near_duplicate: int = 0
    held_out_prompt: int = 0
    lines_other_language: int = 0
    lines_duplicate: int = 0


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------------------------


def line_in_other_language(line: str, lang: str) -> bool:
    """True for a paragraph of at least 6 words that is clearly not in `lang` (e.g. an
    untranslated English paragraph in a German manual page)."""
    word_list = tc.words(line)
    if len(word_list) < 6:
        return False
    if lang == "ru":
        return tc.script_ratio(line, "cyrillic") < 0.3 and \
            tc.stopword_counts(word_list)["en"] >= 2
    counts = tc.stopword_counts(word_list)
    mine = counts[lang]
    other = max(v for k, v in counts.items() if k != lang)
    return other >= 2 and other > mine


def document_language_ok(text: str, lang: str, min_ratio: float,
                         short_without_stopwords_ok: bool = False) -> bool:
    word_list = tc.words(text)
    if len(word_list) < 2 or (len(word_list) < 5 and not short_without_stopwords_ok):
        return False
    if lang == "ru":
        return tc.script_ratio(text, "cyrillic") >= 0.6
    if tc.script_ratio(text, "latin") < 0.97:
        return False
    counts = tc.stopword_counts(word_list)
    if short_without_stopwords_ok and len(word_list) < 12 and not any(counts.values()):
        return True  # a short saying without function words ("Grausamkeit empört, ...")
    best = max(counts, key=lambda k: (counts[k], k == lang))
    return best == lang and counts[lang] / len(word_list) >= min_ratio


class DomainFilter:
    """Stateful per domain: remembers lines and documents already kept."""

    def __init__(self, domain: str):
        self.domain = domain
        self.lang = LANG_OF_DOMAIN.get(domain)
        self.seen_lines: set[str] = set()
        self.seen_docs: set[str] = set()
        self.near = tc.NearDuplicateIndex(threshold=8)
        self.rejects = Rejects()

    def process(self, source: src.Source, doc: src.Doc) -> str | None:
        code = source.kind == "code"
        text = tc.normalize(doc.text, keep_tabs=code)
        if not code:
            text = self._clean_lines(text, source)
        if len(text) < source.min_chars:
            self.rejects.short += 1
            return None
        if not code:
            if tc.letter_ratio(text) < 0.6:
                self.rejects.letters += 1
                return None
            if tc.mojibake_score(text) > 2:
                self.rejects.mojibake += 1
                return None
            min_ratio = 0.12 if len(text) > 400 else 0.08
            if source.name.startswith("manpages"):
                min_ratio = 0.08
            if self.lang and not document_language_ok(
                    text, self.lang, min_ratio,
                    short_without_stopwords_ok=source.name.startswith("fortunes")):
                self.rejects.language += 1
                return None
        fp = tc.fingerprint(text)
        if fp in self.seen_docs:
            self.rejects.duplicate += 1
            return None
        self.seen_docs.add(fp)
        word_list = tc.words(text) if not code else re.findall(r"\w+|[^\w\s]", text)
        if len(word_list) >= 50 and self.near.seen(tc.sketch(word_list)):
            self.rejects.near_duplicate += 1
            return None
        return text

    def _clean_lines(self, text: str, source: src.Source) -> str:
        out: list[str] = []
        doc_lines: set[str] = set()
        for line in text.split("\n"):
            stripped = line.strip()
            if not stripped:
                if out and out[-1] != "":
                    out.append("")
                continue
            if self.lang and source.line_language_filter and \
                    line_in_other_language(stripped, self.lang):
                self.rejects.lines_other_language += 1
                continue
            key = tc.line_key(stripped)
            if len(key) >= 30:
                if key in self.seen_lines and key not in doc_lines:
                    self.rejects.lines_duplicate += 1
                    continue
                doc_lines.add(key)
            out.append(line)
        self.seen_lines.update(doc_lines)
        return "\n".join(out).strip("\n")


# --------------------------------------------------------------------------------------------
# Balancing and splitting
# --------------------------------------------------------------------------------------------


def water_fill(available: dict[str, int], weights: dict[str, float], budget: int) -> dict[str, int]:
    """Splits `budget` bytes over sources in proportion to their weights; a source that has
    less than its share gives the rest to the others."""
    quota = {k: 0 for k in available}
    open_sources = {k for k in available if available[k] > 0 and weights[k] > 0}
    remaining = budget
    while open_sources and remaining > 0:
        total_w = sum(weights[k] for k in open_sources)
        saturated = set()
        for k in open_sources:
            share = remaining * weights[k] / total_w
            if available[k] - quota[k] <= share:
                saturated.add(k)
        if not saturated:
            for k in open_sources:
                quota[k] += int(remaining * weights[k] / total_w)
            remaining = 0
            break
        for k in saturated:
            remaining -= available[k] - quota[k]
            quota[k] = available[k]
        open_sources -= saturated
    return quota


def validation_groups(seed: int, domain: str, docs: list[src.Doc], fraction: float) -> set[str]:
    """Groups (files) of one source that form its validation split: groups are taken in the
    order of a seeded hash of their name (skipping any that would overshoot) until they hold
    `fraction` of the source's bytes.
    All chunks of a file stay on the same side."""
    size: dict[str, int] = {}
    for d in docs:
        size[d.group or d.key] = size.get(d.group or d.key, 0) + len(d.text.encode()) + 1
    total = sum(size.values())

    def rank(group: str) -> bytes:
        return hashlib.blake2b(f"{seed}:{domain}:{group}".encode("utf-8"), digest_size=8).digest()

    chosen, acc, target = set(), 0, fraction * total
    for group in sorted(size, key=rank):
        if acc >= 0.97 * target:
            break
        if acc + size[group] <= 1.03 * target:  # skip groups that would overshoot
            chosen.add(group)
            acc += size[group]
    return chosen


def load_prompts(prompt_dir: str) -> list[str]:
    prompts = []
    if os.path.isdir(prompt_dir):
        for name in sorted(os.listdir(prompt_dir)):
            if name.endswith(".txt"):
                with open(os.path.join(prompt_dir, name), encoding="utf-8") as f:
                    prompts += [line.strip() for line in f if line.strip()]
    return prompts


MIN_PROMPT_CHARS = 8  # shorter prompts would match everywhere and are not checked


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def build_domain(domain: str, sources: list[src.Source], args, prompts: list[str]) -> dict:
    t0 = time.time()
    # Sources used only for growing come last: deduplication keeps the first copy of a text, so
    # they cannot take a document away from the base corpus.
    sources = [s for s in sources if not s.grow_only] + \
        [s for s in sources if s.grow_only and args.base_mb is not None]
    flt = DomainFilter(domain)
    kept: dict[str, list[src.Doc]] = {}
    extracted: dict[str, int] = {}
    for source in sources:
        docs = []
        n_in = 0
        for doc in source.extract():
            n_in += 1
            text = flt.process(source, doc)
            if text is not None:
                doc.text = text
                docs.append(doc)
        extracted[source.name] = n_in
        kept[source.name] = docs
        log(f"  {domain:8s} {source.name:28s} {n_in:6d} extracted, {len(docs):6d} kept, "
            f"{sum(len(d.text.encode()) for d in docs) / 1e6:7.2f} MB")
    return finish_domain(domain, sources, kept, extracted, flt.rejects, args, prompts, t0)


def finish_domain(domain, sources, kept, extracted, rejects, args, prompts, t0) -> dict:
    # Held-out prompts must not occur in the corpus: drop any document that contains one.
    squashed_prompts = [p for p in (squash(p) for p in prompts) if len(p) >= MIN_PROMPT_CHARS]
    for name, docs in kept.items():
        blob = "\x00".join(squash(d.text) for d in docs)
        hits = [p for p in squashed_prompts if p in blob]
        if hits:
            before = len(docs)
            docs[:] = [d for d in docs if not any(p in squash(d.text) for p in hits)]
            rejects.held_out_prompt += before - len(docs)

    val_fraction = args.val_fraction
    available = {s.name: sum(len(d.text.encode()) + 1 for d in kept[s.name]) for s in sources}
    weights = {s.name: s.weight for s in sources}

    def quotas(train_mb: float, names: set[str]) -> dict[str, int]:
        budget = int(train_mb * 1e6 / (1 - val_fraction))
        filled = water_fill({k: v for k, v in available.items() if k in names}, weights, budget)
        return {s.name: filled.get(s.name, 0) for s in sources}

    def shuffled(s: src.Source) -> list[src.Doc]:
        docs = list(kept[s.name])
        random.Random(f"{args.seed}:{domain}:{s.name}").shuffle(docs)
        return docs

    def take(s: src.Source, quota: int) -> list[src.Doc]:
        """A prefix of the source's shuffled documents: a larger quota takes a superset."""
        taken, size = [], 0
        for d in shuffled(s):
            if size >= quota:
                break
            taken.append(d)
            size += len(d.text.encode()) + 1
        return taken

    # The corpus of `base_mb` (sources not marked grow_only): its selection decides the
    # validation split. Growing to `target_mb` only adds training documents, so a grown
    # corpus has the base corpus's val.txt byte for byte and none of it in train.txt.
    base_mb = args.base_mb if args.base_mb is not None else args.target_mb
    base_quota = quotas(base_mb, {s.name for s in sources if not s.grow_only})
    base_taken = {s.name: take(s, base_quota[s.name]) for s in sources}
    val_groups: set[str] = set()
    for s in sources:
        val_groups |= validation_groups(args.seed, f"{domain}:{s.name}", base_taken[s.name],
                                        val_fraction)
    quota = base_quota
    if args.base_mb is not None:
        grown = quotas(args.target_mb, {s.name for s in sources})
        quota = {k: max(grown[k], base_quota[k]) for k in grown}

    splits = {"train": [], "val": []}
    per_source = {}
    for s in sources:
        base = {id(d) for d in base_taken[s.name]}
        taken = take(s, quota[s.name])
        per_source[s.name] = {
            "packages": s.packages, "licence": s.licence, "weight": s.weight,
            "documents_extracted": extracted[s.name], "documents_kept": len(kept[s.name]),
            "bytes_available": available[s.name], "documents_selected": len(taken),
            "bytes_selected": sum(len(d.text.encode()) + 1 for d in taken),
            "train_bytes": 0, "val_bytes": 0,
        }
        if s.grow_only:
            per_source[s.name]["grow_only"] = True
        for d in taken:
            in_val_group = (d.group or d.key) in val_groups
            if in_val_group and id(d) not in base:
                continue  # another piece of a validation file, added by growing: left out
            split = "val" if in_val_group else "train"
            splits[split].append(d)
            per_source[s.name][f"{split}_bytes"] += len(d.text.encode()) + 1

    out_dir = os.path.join(args.out, domain)
    os.makedirs(out_dir, exist_ok=True)
    stats = {"sources": per_source, "rejected": rejects.__dict__, "seconds": 0.0}
    for split, docs in splits.items():
        rng = random.Random(f"{args.seed}:{domain}:{split}:order")
        docs.sort(key=lambda d: (d.source, d.key))
        rng.shuffle(docs)
        body = f"\n{tc.DOC_SEPARATOR}\n".join(d.text for d in docs) + "\n"
        assert unicodedata.is_normalized("NFC", body), f"{domain}/{split} is not NFC"
        assert body.count(tc.DOC_SEPARATOR) == max(len(docs) - 1, 0), "separator inside a document"
        path = os.path.join(out_dir, f"{split}.txt")
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write(body)
        os.replace(tmp, path)
        stats[split] = {"bytes": len(body.encode("utf-8")), "documents": len(docs),
                        "characters": len(body)}
        # Verify on what was written: no held-out prompt occurs in this split.
        blob = squash(body)
        found = [p for p in squashed_prompts if p in blob]
        stats[split]["held_out_prompts_found"] = len(found)
        if found:
            log(f"  WARNING: {domain}/{split}.txt contains held-out prompts: {found[:5]}")
    if args.samples:
        # A few random documents per source, labelled, for a human to look at.
        rng = random.Random(f"{args.seed}:{domain}:samples")
        sample_dir = os.path.join(args.out, "samples")
        os.makedirs(sample_dir, exist_ok=True)
        with open(os.path.join(sample_dir, f"{domain}.txt"), "w", encoding="utf-8") as f:
            for s in sources:
                docs = [d for d in splits["train"] if d.source == s.name]
                for d in rng.sample(docs, min(args.samples, len(docs))):
                    f.write(f"##### {s.name} {d.key}\n{d.text[:3000]}\n\n")
    train_bytes = stats["train"]["bytes"]
    stats["short_of_target"] = train_bytes < args.target_mb * 1e6 * 0.97
    stats["seconds"] = round(time.time() - t0, 1)
    return stats


def build_maths(args, prompts: list[str]) -> dict:
    t0 = time.time()
    source = src.Source("maths-generated", [], 1, lambda: iter(()), kind="code", min_chars=20,
                        licence="generated by scripts/corpus/maths_gen.py (part of moescope)",
                        note="seeded generator")
    flt = DomainFilter("maths")
    # A grown corpus keeps the base corpus's maths: more generated exercises would only repeat
    # the same templates, and the validation split stays the base one.
    if args.base_mb is not None:
        args = argparse.Namespace(**{**vars(args), "target_mb": args.base_mb, "base_mb": None})
    target_total = int(args.target_mb * 1e6 / (1 - args.val_fraction))
    docs, n_in = [], 0
    size = 0
    # Generate a little more than needed: documents that repeat an earlier one are dropped.
    for key, text in maths_gen.generate(args.seed, target_bytes=int(target_total * 1.05)):
        n_in += 1
        doc = src.Doc("maths-generated", key, text, group=key)
        kept_text = flt.process(source, doc)
        if kept_text is not None:
            doc.text = kept_text
            docs.append(doc)
            size += len(kept_text.encode()) + 1
    log(f"  {'maths':8s} {'maths-generated':28s} {n_in:6d} generated, {len(docs):6d} kept, "
        f"{size / 1e6:7.2f} MB, {maths_gen.Check.count} equalities checked")
    stats = finish_domain("maths", [source], {"maths-generated": docs},
                          {"maths-generated": n_in}, flt.rejects, args, prompts, t0)
    stats["equalities_checked"] = maths_gen.Check.count
    return stats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="data/corpus")
    ap.add_argument("--prompts", default="assets/prompts",
                    help="held-out prompt files; documents containing one are dropped")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--target-mb", type=float, default=5.0,
                    help="train megabytes (10^6 bytes) per domain")
    ap.add_argument("--base-mb", type=float, default=None,
                    help="grow the corpus of this many train MB to --target-mb: the base corpus's "
                         "validation split and training documents stay, more training documents "
                         "are added (also from sources used only for growing); maths stays at "
                         "the base size")
    ap.add_argument("--val-fraction", type=float, default=0.05)
    ap.add_argument("--samples", type=int, default=3,
                    help="write samples/<domain>.txt with this many random documents per source")
    ap.add_argument("--domains", default="english,german,french,spanish,russian,code,maths")
    args = ap.parse_args()
    if args.base_mb is not None and args.base_mb > args.target_mb:
        sys.exit("build_corpus: --base-mb must not exceed --target-mb")

    t0 = time.time()
    prompts = load_prompts(args.prompts)
    all_sources = src.domains()
    wanted = [d for d in args.domains.split(",") if d]
    for d in wanted:
        if d != "maths" and d not in all_sources:
            sys.exit(f"build_corpus: unknown domain {d!r}")
    os.makedirs(args.out, exist_ok=True)
    stats_path = os.path.join(args.out, "stats.json")
    stats = {}
    if os.path.exists(stats_path) and set(wanted) != set(LANG_OF_DOMAIN) | {"code", "maths"}:
        with open(stats_path, encoding="utf-8") as f:
            stats = json.load(f).get("domains", {})
    for domain in wanted:
        log(f"[{time.time() - t0:6.1f}s] {domain}")
        if domain == "maths":
            stats[domain] = build_maths(args, prompts)
        else:
            stats[domain] = build_domain(domain, all_sources[domain], args, prompts)

    summary = {
        "seed": args.seed, "target_train_bytes_per_domain": int(args.target_mb * 1e6),
        "base_train_bytes_per_domain": int((args.base_mb or args.target_mb) * 1e6),
        "val_fraction": args.val_fraction, "separator": tc.DOC_SEPARATOR,
        "held_out_prompts_checked": sum(len(squash(p)) >= MIN_PROMPT_CHARS for p in prompts),
        "held_out_prompts_too_short_to_check": [p for p in prompts
                                                if len(squash(p)) < MIN_PROMPT_CHARS],
        "build_seconds": round(time.time() - t0, 1), "domains": stats,
    }
    with open(stats_path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2, ensure_ascii=False)
        f.write("\n")
    os.replace(stats_path + ".tmp", stats_path)

    print(f"\nmoescope corpus in {args.out} (seed {args.seed}, target "
          f"{args.target_mb:g} MB train per domain, {time.time() - t0:.0f} s)")
    print(f"{'domain':10s} {'train MB':>9s} {'docs':>7s} {'val MB':>8s} {'docs':>6s}  note")
    for domain, st in stats.items():
        note = "SHORT of target" if st.get("short_of_target") else ""
        print(f"{domain:10s} {st['train']['bytes'] / 1e6:9.2f} {st['train']['documents']:7d} "
              f"{st['val']['bytes'] / 1e6:8.2f} {st['val']['documents']:6d}  {note}")
        for name, s in st["sources"].items():
            print(f"    {name:30s} {s['bytes_selected'] / 1e6:6.2f} MB of "
                  f"{s['bytes_available'] / 1e6:6.2f} MB, {s['documents_selected']} docs")


if __name__ == "__main__":
    main()
