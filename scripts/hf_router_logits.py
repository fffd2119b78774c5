#!/usr/bin/env python3
"""Dump a Hugging Face MoE model's router logits for a prompt set as a moescope trace.

    python3 scripts/hf_router_logits.py MODEL prompts.txt --out trace.json
    moescope-cli import trace.json --out imported.json     # or: plot --trace trace.json ...

MODEL is a Hugging Face model id or folder whose forward accepts output_router_logits=True
(Mixtral, OLMoE, Qwen-MoE, DeepSeek-V2/V3 ports, ...). prompts.txt holds one prompt per line.
The output is the moescope-trace format of docs/trace-import.md: per prompt the token texts,
token ids, the chosen experts and the router logits of every MoE layer. Needs torch and
transformers (not moescope's dependencies; this script is an example, not run by its tests).
The experts written are the top-k of the router scores; for routers that choose with a bias or
by groups (DeepSeek-V3) that is an approximation: there, prefer the serving engine's routed
experts (README, "Models too large for one machine").
"""
import argparse
import json
import sys


def moe_layers_of(config, n_router_outputs):
    """The model layers whose routers produced the outputs, by the config's rule."""
    n_layer = config.num_hidden_layers
    first_dense = getattr(config, "first_k_dense_replace", 0) or 0
    freq = getattr(config, "moe_layer_freq", 1) or 1
    step = getattr(config, "decoder_sparse_step", 1) or 1
    mlp_only = set(getattr(config, "mlp_only_layers", []) or [])
    layers = [l for l in range(n_layer)
              if l >= first_dense and l % freq == 0 and (l + 1) % step == 0 and l not in mlp_only]
    if len(layers) != n_router_outputs:
        # Unknown rule: the last n layers (HF models return one tensor per routing layer).
        layers = list(range(n_layer - n_router_outputs, n_layer))
    return layers


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model")
    parser.add_argument("prompts")
    parser.add_argument("--out", required=True)
    parser.add_argument("--sigmoid", action="store_true",
                        help="the router scores with a sigmoid (DeepSeek-V3 style)")
    parser.add_argument("--no-normalize", action="store_true",
                        help="gate weights are the chosen scores as they are (Qwen1.5/2-MoE)")
    args = parser.parse_args()

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForCausalLM.from_pretrained(args.model, torch_dtype="auto", device_map="auto")
    config = model.config
    n_expert = (getattr(config, "n_routed_experts", None) or getattr(config, "num_experts", None)
                or getattr(config, "num_local_experts", None))
    top_k = config.num_experts_per_tok

    with open(args.prompts, encoding="utf-8") as f:
        prompts = [line.rstrip("\n") for line in f if line.strip()]
    sequences = []
    moe_layers = None
    for prompt in prompts:
        encoded = tokenizer(prompt, return_tensors="pt").to(model.device)
        with torch.no_grad():
            output = model(**encoded, output_router_logits=True)
        # One [tokens, n_expert] tensor per MoE layer (batch 1).
        logits = [layer.float().reshape(-1, n_expert).cpu() for layer in output.router_logits]
        if moe_layers is None:
            moe_layers = moe_layers_of(config, len(logits))
        ids = encoded["input_ids"][0].tolist()
        scores = [torch.sigmoid(l) if args.sigmoid else torch.softmax(l, dim=-1) for l in logits]
        sequences.append({
            "tokens": [tokenizer.decode([i]) for i in ids],
            "token_ids": ids,
            "experts": [[torch.topk(s[t], top_k).indices.tolist() for s in scores]
                        for t in range(len(ids))],
            "router_logits": [[l[t].tolist() for l in logits] for t in range(len(ids))],
        })
        print(f"{len(ids)} tokens: {prompt[:60]}", file=sys.stderr)

    trace = {
        "format": "moescope-trace",
        "version": 1,
        "model": args.model,
        "n_layer": config.num_hidden_layers,
        "n_expert": n_expert,
        "top_k": top_k,
        "moe_layers": moe_layers,
        "gating": "sigmoid" if args.sigmoid else "softmax",
        "normalize_top_k": not args.no_normalize,
        "sequences": sequences,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(trace, f)


if __name__ == "__main__":
    main()
