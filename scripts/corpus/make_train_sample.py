#!/usr/bin/env python3
"""Cuts the small training sample shipped in assets/train/sample from the full corpus.

The Train tab of the GUI trains a tiny MoE live on this sample; the full corpus (data/corpus,
rebuilt by build_corpus.sh) is not in the repository. For every domain it takes whole documents
from evenly spaced places of data/corpus/<domain>/train.txt and val.txt (so the sample covers
every source of the domain, not only the first one), cuts long documents at a line end, and
writes them in the corpus format (documents separated by a line "<|endoftext|>") to
assets/train/sample/<domain>/{train,val}.txt. The same corpus gives the same sample.

    python3 scripts/corpus/make_train_sample.py [--corpus data/corpus] [--out assets/train/sample]
"""
import argparse
import pathlib
import sys

DOMAINS = ["english", "code", "german", "french", "spanish", "russian", "maths"]
SEPARATOR = "<|endoftext|>"


def documents(path):
    text = path.read_text(encoding="utf-8")
    docs, current = [], []
    for line in text.split("\n"):
        if line == SEPARATOR:
            docs.append("\n".join(current))
            current = []
        else:
            current.append(line)
    docs.append("\n".join(current))
    return [d for d in docs if d.strip()]


def cut(doc, max_bytes):
    """The document, or its first lines up to about max_bytes (whole lines, UTF-8 bytes)."""
    if len(doc.encode("utf-8")) <= max_bytes:
        return doc
    kept, size = [], 0
    for line in doc.split("\n"):
        size += len(line.encode("utf-8")) + 1
        if size > max_bytes and kept:
            break
        kept.append(line)
    return "\n".join(kept)


def sample(docs, budget, max_doc_bytes):
    """Documents at evenly spaced indices until `budget` bytes are taken."""
    if not docs:
        return []
    mean = sum(min(len(d.encode("utf-8")), max_doc_bytes) for d in docs) / len(docs)
    wanted = max(1, min(len(docs), int(budget / mean) + 1))
    step = len(docs) / wanted
    taken, size = [], 0
    for i in range(wanted):
        doc = cut(docs[int(i * step)], max_doc_bytes)
        taken.append(doc)
        size += len(doc.encode("utf-8")) + len(SEPARATOR) + 2
        if size >= budget:
            break
    return taken


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="data/corpus", type=pathlib.Path)
    parser.add_argument("--out", default="assets/train/sample", type=pathlib.Path)
    parser.add_argument("--train-kb", type=int, default=140, help="train bytes per domain (KB)")
    parser.add_argument("--val-kb", type=int, default=30, help="validation bytes per domain (KB)")
    parser.add_argument("--max-doc-kb", type=int, default=4, help="longer documents are cut")
    args = parser.parse_args()
    total = 0
    for domain in DOMAINS:
        for split, kb in (("train", args.train_kb), ("val", args.val_kb)):
            source = args.corpus / domain / (split + ".txt")
            if not source.is_file():
                sys.exit(f"{source} is missing: build the corpus first (scripts/corpus/build_corpus.sh)")
            docs = sample(documents(source), kb * 1000, args.max_doc_kb * 1000)
            target = args.out / domain / (split + ".txt")
            target.parent.mkdir(parents=True, exist_ok=True)
            text = ("\n" + SEPARATOR + "\n").join(docs) + "\n"
            target.write_text(text, encoding="utf-8")
            total += len(text.encode("utf-8"))
            print(f"{target}: {len(docs)} documents, {len(text.encode('utf-8'))} bytes")
    print(f"total {total} bytes")


if __name__ == "__main__":
    main()
