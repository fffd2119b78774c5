// `moescope-cli make-model OUT [...]`: writes a small random-weight MoE model of any supported
// architecture (llama-style by default), for demos, experiments before a trained model is at
// hand, and checks against other implementations. Its routing is real (the router
// really runs) but its weights are random, so it says nothing about language.
#include <algorithm>
#include <iostream>
#include <map>

#include "cli_common.hpp"
#include "moe/arch.hpp"
#include "moe/error.hpp"
#include "moe/random_model.hpp"

namespace moescope::cli {

void register_make_model(CLI::App& app) {
  auto spec = std::make_shared<moe::RandomModelSpec>();
  auto out_path = std::make_shared<std::string>();
  auto type_name = std::make_shared<std::string>("f32");
  auto shared_experts = std::make_shared<int>(1);
  auto* command = app.add_subcommand("make-model",
                                     "Write a random-weight MoE model (GGUF) for demos and tests");
  command->add_option("OUT", *out_path, "Output GGUF path")->required();
  command->add_option("--experts", spec->n_expert, "Experts per MoE layer")
      ->check(CLI::Range(1, 256));
  command->add_option("--top-k", spec->n_expert_used, "Experts chosen per token")
      ->check(CLI::Range(1, 256));
  command->add_option("--layers", spec->n_layer, "Layers")->check(CLI::Range(1, 128));
  command->add_option("--embd", spec->n_embd, "Embedding width")->check(CLI::Range(8, 8192));
  command->add_option("--heads", spec->n_head, "Attention heads")->check(CLI::Range(1, 256));
  command->add_option("--kv-heads", spec->n_head_kv, "KV heads (grouped-query attention)")
      ->check(CLI::Range(1, 256));
  command
      ->add_option("--head-dim", spec->head_dim,
                   "Head size (attention.key_length), if not --embd / --heads (Qwen3-style)")
      ->check(CLI::Range(2, 1024));
  command->add_option("--ff", spec->n_ff_exp, "Expert FFN width")->check(CLI::Range(8, 65536));
  command->add_option("--vocab", spec->n_vocab, "Vocabulary size (>= 258)")
      ->check(CLI::Range(258, 1 << 20));
  command->add_option("--ctx", spec->n_ctx, "Context length")->check(CLI::Range(8, 1 << 20));
  command->add_option("--seed", spec->seed, "Random seed");
  command->add_option("--arch", spec->architecture, "Architecture (general.architecture)")
      ->check(CLI::IsMember(moe::supported_architectures()));
  command
      ->add_option("--shared-experts", *shared_experts,
                   "deepseek2, glm4moe, ernie4_5-moe, bailingmoe2: shared experts per MoE layer")
      ->check(CLI::Range(0, 64));
  command->add_flag("--sigmoid", spec->sigmoid_gating,
                    "deepseek2: sigmoid gates with a selection bias (V3 style)");
  command
      ->add_option("--expert-groups", spec->n_expert_groups,
                   "Group-limited routing: experts in this many groups (expert_group_count)")
      ->check(CLI::Range(2, 256));
  command
      ->add_option("--groups-used", spec->n_expert_groups_used,
                   "Group-limited routing: choose within this many best groups")
      ->check(CLI::Range(1, 255));
  command
      ->add_option("--window", spec->sliding_window,
                   "gpt-oss: sliding window of its even layers (attention.sliding_window)")
      ->check(CLI::Range(1, 1 << 20));
  command->add_flag("--qk-norm", spec->qk_norm, "glm4moe: per-head q/k norms (GLM-4.5 355B)");
  command->add_option("--clamp-kqv", spec->clamp_kqv, "dbrx: q/k/v clamp (attention.clamp_kqv)")
      ->check(CLI::Range(0.01, 1e6));
  command
      ->add_option("--moe-step", spec->moe_layer_step,
                   "llama4, ernie4_5-moe: every n-th layer MoE (interleave_moe_layer_step)")
      ->check(CLI::Range(1, 128));
  command->add_flag("--dense-ffn", spec->dense_ffn_beside_experts,
                    "grok: a dense FFN beside the experts in every layer (Grok-2)");
  command->add_flag("--fused-qkv", spec->fused_qkv,
                    "One fused attn_qkv projection instead of attn_q, attn_k, attn_v");
  command->add_option("--type", *type_name, "Weight type: f32, f16, bf16 or q8_0")
      ->check(CLI::IsMember({"f32", "f16", "bf16", "q8_0"}));
  command->callback([spec, out_path, type_name, shared_experts] {
    static const std::map<std::string, moe::GgmlType> types = {{"f32", moe::GgmlType::F32},
                                                               {"f16", moe::GgmlType::F16},
                                                               {"bf16", moe::GgmlType::BF16},
                                                               {"q8_0", moe::GgmlType::Q8_0}};
    spec->weight_type = types.at(*type_name);
    if (spec->n_expert_used > spec->n_expert) {
      throw moe::Error("--top-k " + std::to_string(spec->n_expert_used) +
                       " is more than --experts " + std::to_string(spec->n_expert));
    }
    if ((spec->n_expert_groups > 0) != (spec->n_expert_groups_used > 0)) {
      throw moe::Error("--expert-groups and --groups-used go together");
    }
    if (spec->n_expert_groups > 0 && (spec->n_expert % spec->n_expert_groups != 0 ||
                                      spec->n_expert_groups_used >= spec->n_expert_groups)) {
      throw moe::Error("--expert-groups must divide --experts and exceed --groups-used");
    }
    spec->n_ff = 2 * spec->n_ff_exp;
    if (spec->architecture == "deepseek2") {
      // Latent attention: half of each head rotary, a kv rank of half the width, the first
      // layer dense as in DeepSeek's models.
      const int head_dim = spec->head_dim > 0 ? spec->head_dim : spec->n_embd / spec->n_head;
      if (head_dim < 4) throw moe::Error("deepseek2 needs a head size (--embd / --heads) >= 4");
      spec->head_dim = head_dim;
      spec->n_rot = head_dim / 2 - (head_dim / 2) % 2;
      spec->kv_lora_rank = spec->n_embd / 2;
      spec->n_expert_shared = *shared_experts;
      spec->selection_bias = spec->sigmoid_gating;
      spec->expert_weights_norm = spec->sigmoid_gating;
      if (spec->n_layer > 1) spec->dense_layers = {0};
    }
    const int head_dim = spec->head_dim > 0 ? spec->head_dim : spec->n_embd / spec->n_head;
    if (spec->architecture == "gpt-oss") {
      // As the released files: q/k/v biases and YaRN (here x4 from a quarter of the context).
      spec->attention_biases = true;
      spec->rope_scaling = "yarn";
      spec->rope_scaling_factor = 4;
      spec->rope_n_ctx_orig = std::max(8, spec->n_ctx / 4);
    }
    if (spec->architecture == "glm4moe") {
      // As GLM-4.5-Air: the first layer dense, sigmoid gates with the selection bias, weights
      // normalized and x2.5, shared experts, q/k/v biases, RoPE on half of each head.
      if (head_dim < 4) throw moe::Error("glm4moe needs a head size (--embd / --heads) >= 4");
      spec->n_rot = head_dim / 2 - (head_dim / 2) % 2;
      spec->n_expert_shared = *shared_experts;
      spec->sigmoid_gating = spec->selection_bias = spec->expert_weights_norm = true;
      spec->expert_weights_scale = 2.5f;
      spec->attention_biases = true;
      if (spec->n_layer > 1) spec->dense_layers = {0};
    }
    if (spec->architecture == "ernie4_5-moe" || spec->architecture == "bailingmoe2") {
      // As ERNIE 4.5 and Ling 2.0: the first layer dense, shared experts; Ling's sigmoid gates
      // with the selection bias, normalized and x2.5, one fused q/k/v with per-head q/k norms
      // and RoPE on half of each head.
      spec->n_expert_shared = *shared_experts;
      spec->selection_bias = true;
      if (spec->n_layer > 1) spec->dense_layers = {0};
    }
    if (spec->architecture == "bailingmoe2") {
      if (head_dim < 4) throw moe::Error("bailingmoe2 needs a head size (--embd / --heads) >= 4");
      spec->n_rot = head_dim / 2 - (head_dim / 2) % 2;
      spec->sigmoid_gating = spec->expert_weights_norm = true;
      spec->expert_weights_scale = 2.5f;
      spec->fused_qkv = true;
    }
    if (spec->architecture == "llama4") {
      // As Llama 4: the layers between every --moe-step-th one dense (Maverick: 2, Scout: 1).
      spec->dense_layers.clear();
      for (int layer = 0; layer < spec->n_layer; ++layer) {
        if ((layer + 1) % spec->moe_layer_step != 0) spec->dense_layers.insert(layer);
      }
    }
    moe::write_random_model(*spec, *out_path);
    std::cout << "wrote " << *out_path << ": " << spec->architecture << ", " << spec->n_layer
              << " layers, " << spec->n_expert << " experts, top-" << spec->n_expert_used
              << ", width " << spec->n_embd << ", " << *type_name << " weights (random, seed "
              << spec->seed << ")\n";
  });
}

}  // namespace moescope::cli
