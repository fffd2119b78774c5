#!/usr/bin/env python3
"""The bundled model card's measured tables, for one model or an old and a new one side by side.

    scripts/model_card_tables.py MODEL [OLD_MODEL] [--cli build/bin/moescope-cli]
        [--corpus data/corpus] [--prompts assets/prompts] [--threads 2]

Prints Markdown: tokens per word on each domain's val.txt; perplexity and bits per byte on the
first 30,000 bytes of each domain's val.txt (held out from training); I(domain; top-1 expert)
per layer over the prompt sets; the same on the short check texts of assets/eval; greedy samples of the example prompts; and, for MODEL, the
knock-out table (each domain's most relied-on expert disabled at its layer and at all layers,
against a control: the domain's least used expert at that layer). Every number comes from
moescope-cli's own commands (tokenize --stats, ppl, domains, generate), so anyone can redo them.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HELD_OUT_BYTES = 30000
SAMPLE_PROMPTS = [
    "The history of the city",
    "Write a short poem about the sea",
    "def fibonacci(n):",
    "Guten Morgen! Heute möchte ich",
    "Bonjour, je voudrais",
    "Hola, me llamo",
    "Привет, как",
    "Solve 15 × 8",
]


def run_json(cli, *args):
    result = subprocess.run([cli, *args, "--json"], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{cli} {' '.join(args)} failed:\n{result.stderr.strip()}")
    return json.loads(result.stdout)


def domains_of(corpus):
    return sorted(d for d in os.listdir(corpus) if os.path.isfile(os.path.join(corpus, d, "val.txt")))


def held_out_file(corpus, domain, workdir):
    """The first HELD_OUT_BYTES of val.txt, cut at a line end so no UTF-8 letter is split."""
    with open(os.path.join(corpus, domain, "val.txt"), "rb") as f:
        text = f.read(HELD_OUT_BYTES)
    if b"\n" in text:
        text = text[: text.rindex(b"\n") + 1]
    path = os.path.join(workdir, domain + ".txt")
    with open(path, "wb") as f:
        f.write(text)
    return path


def model_name(path):
    return os.path.splitext(os.path.basename(path))[0]


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def tokens_per_word(args, models, domains):
    rows = []
    for domain in domains:
        val = os.path.join(args.corpus, domain, "val.txt")
        row = [domain]
        for model in models:
            s = run_json(args.cli, "tokenize", model, "--file", val, "--stats")
            row.append(f"{s['tokens_per_word']['median']} / {s['tokens_per_word']['mean']:.2f} / "
                       f"{100 * s['one_token_words']:.1f}%")
        rows.append(row)
    header = ["domain"] + [f"{model_name(m)}: median / mean / one-token words" for m in models]
    return table(header, rows)


def perplexity(args, models, domains, text_of):
    rows = []
    for domain in domains:
        held_out = text_of(domain)
        if not os.path.isfile(held_out):
            continue
        row = [domain]
        results = [run_json(args.cli, "ppl", m, "--file", held_out, "--threads", str(args.threads))
                   for m in models]
        for r in results:
            row.append(f"{r['bits_per_byte']:.2f} / {r['perplexity']:.1f}")
        if len(results) == 2:
            row.append(f"{100 * results[0]['bits_per_byte'] / results[1]['bits_per_byte']:.0f}%")
        rows.append(row)
    header = ["domain"] + [f"{model_name(m)}: bits per byte / perplexity" for m in models]
    if len(models) == 2:
        header.append("new bits per byte, % of old")
    return table(header, rows)


def domains_json(args, model):
    return run_json(args.cli, "domains", model, "--prompts", args.prompts,
                    "--threads", str(args.threads))


def mutual_information(specialization):
    rows = []
    for model, d in specialization.items():
        rows.append([model_name(model)] + [f"{layer['mi_bits']:.2f}" for layer in d["layers"]])
    width = max(len(r) for r in rows) - 1
    rows = [r + ["–"] * (width + 1 - len(r)) for r in rows]
    return table(["model"] + [f"layer {i}" for i in range(width)], rows)


def samples(args, models):
    lines = []
    for model in models:
        lines.append(f"{model_name(model)}, greedy (`generate -n 24 --temp 0`):\n")
        for prompt in SAMPLE_PROMPTS:
            g = run_json(args.cli, "generate", model, "-p", prompt, "-n", "24", "--temp", "0",
                         "--threads", str(args.threads))
            text = g["text"].replace("\n", "\\n")
            lines.append(f"- `{prompt}` → `{text}`")
        lines.append("")
    return "\n".join(lines)


def knock_out(args, model, d):
    rows = []
    for domain in sorted(d["layers"][0]["top1"]):
        share, layer, expert = max((share, li, e) for li, layer in enumerate(d["layers"])
                                   for e, share in enumerate(layer["top1"][domain]))
        at_layer = d["layers"][layer]["top1"][domain]
        control = min(range(len(at_layer)), key=lambda e: at_layer[e])
        prompts = os.path.join(args.prompts, domain + ".txt")

        def ppl(*extra):
            return run_json(args.cli, "ppl", model, "--file", prompts,
                            "--threads", str(args.threads), *extra)["perplexity"]

        base = ppl()
        cells = [ppl("--disable-expert", f"{layer}:{expert}"),
                 ppl("--disable-expert", f"all:{expert}"),
                 ppl("--disable-expert", f"{layer}:{control}")]
        rows.append([domain, f"L{layer} E{expert} ({100 * share:.1f}%)", f"{base:.2f}"] +
                    [f"{c:.2f} ({100 * (c / base - 1):+.1f}%)" for c in cells] +
                    [f"L{layer} E{control}"])
    header = ["domain", "relies on (top-1 share)", "ppl", "expert off at its layer",
              "off at all layers", "control off", "control"]
    return table(header, rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("old_model", nargs="?")
    parser.add_argument("--cli", default="build/bin/moescope-cli")
    parser.add_argument("--corpus", default="data/corpus")
    parser.add_argument("--prompts", default="assets/prompts")
    parser.add_argument("--eval", default="assets/eval")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    for path in [args.cli, args.model] + ([args.old_model] if args.old_model else []):
        if not os.path.exists(path):
            sys.exit(f"{path}: no such file")
    if not os.path.isdir(args.corpus):
        sys.exit(f"{args.corpus}: no corpus (scripts/corpus/build_corpus.sh makes it)")
    models = [args.model] + ([args.old_model] if args.old_model else [])
    domains = domains_of(args.corpus)
    with tempfile.TemporaryDirectory() as workdir:
        print("## Tokens per word (each domain's val.txt)\n")
        print(tokens_per_word(args, models, domains), "\n")
        print(f"## Held-out text (first {HELD_OUT_BYTES:,} bytes of each val.txt)\n")
        print(perplexity(args, models, domains,
                         lambda d: held_out_file(args.corpus, d, workdir)), "\n")
    print(f"## Check texts written for the card ({args.eval})\n")
    print(perplexity(args, models, domains, lambda d: os.path.join(args.eval, d + ".txt")), "\n")
    print(f"## I(domain; top-1 expert), bits ({args.prompts})\n")
    specialization = {model: domains_json(args, model) for model in models}
    print(mutual_information(specialization), "\n")
    print("## Samples\n")
    print(samples(args, models))
    print(f"## Knock-out ({model_name(args.model)}, {args.prompts})\n")
    print(knock_out(args, args.model, specialization[args.model]))


if __name__ == "__main__":
    main()
