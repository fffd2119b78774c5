"""Growing a corpus (scripts/corpus/build_corpus.py --base-mb) keeps the base corpus: the same
val.txt byte for byte, every base training document, no validation text in train.txt, and
sources marked grow_only only in the grown corpus. Runs build_domain on synthetic sources, so it
needs no Debian packages."""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts",
                                "corpus"))

import build_corpus  # noqa: E402
import sources as src  # noqa: E402

SEPARATOR = "\n<|endoftext|>\n"
WORDS = ["alpha", "beta", "gamma", "delta", "kappa", "sigma", "omega", "theta", "lambda", "zeta",
         "route", "expert", "token", "layer", "score", "gate", "load", "share", "mix", "sum"]


def synthetic_source(name: str, files: int, chunks: int, grow_only: bool = False) -> src.Source:
    """`files` files of `chunks` documents each (a file's chunks share a group), random words."""
    def extract():
        rng = random.Random(name)
        for f in range(files):
            for c in range(chunks):
                text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 120)))
                yield src.Doc(name, f"{name}/{f}#{c}", f"{name} {f} {c}: {text}",
                              group=f"{name}/{f}")
    return src.Source(name, [], 1, extract, kind="code", min_chars=20, grow_only=grow_only)


def documents(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [d.strip("\n") for d in f.read().split(SEPARATOR)]


class CorpusGrowTest(unittest.TestCase):
    def build(self, out: str, target_mb: float, base_mb: float | None) -> dict:
        sources = [synthetic_source("old-a", 40, 3), synthetic_source("old-b", 25, 2),
                   synthetic_source("new", 30, 2, grow_only=True)]
        args = argparse.Namespace(out=out, seed=7, target_mb=target_mb, base_mb=base_mb,
                                  val_fraction=0.1, samples=0)
        return build_corpus.build_domain("code", sources, args, prompts=[])

    def test_growing_keeps_the_base_corpus(self):
        with tempfile.TemporaryDirectory() as tmp:
            base_dir, grown_dir = os.path.join(tmp, "base"), os.path.join(tmp, "grown")
            base_stats = self.build(base_dir, 0.04, None)
            grown_stats = self.build(grown_dir, 0.2, 0.04)

            self.assertNotIn("new", base_stats["sources"])
            self.assertIn("new", grown_stats["sources"])
            with open(os.path.join(base_dir, "code", "val.txt"), "rb") as f:
                base_val = f.read()
            with open(os.path.join(grown_dir, "code", "val.txt"), "rb") as f:
                self.assertEqual(base_val, f.read())

            base_train = set(documents(os.path.join(base_dir, "code", "train.txt")))
            grown_train = set(documents(os.path.join(grown_dir, "code", "train.txt")))
            val = documents(os.path.join(base_dir, "code", "val.txt"))
            self.assertTrue(val)
            self.assertLess(len(base_train), len(grown_train))
            self.assertLessEqual(base_train, grown_train)
            self.assertFalse(any(d.startswith("new ") for d in base_train))
            self.assertTrue(any(d.startswith("new ") for d in grown_train))

            # No piece of a validation file is trained on, not even one only the grown corpus took.
            def file_of(doc: str) -> str:
                return " ".join(doc.split(" ")[:2])
            val_files = {file_of(d) for d in val}
            self.assertFalse(val_files & {file_of(d) for d in grown_train})

    def test_default_build_ignores_grow_only_sources(self):
        with tempfile.TemporaryDirectory() as tmp:
            stats = self.build(tmp, 10.0, None)  # more than all sources hold
            self.assertNotIn("new", stats["sources"])
            self.assertFalse(any(d.startswith("new ") for d in
                                 documents(os.path.join(tmp, "code", "train.txt"))))


if __name__ == "__main__":
    unittest.main()
