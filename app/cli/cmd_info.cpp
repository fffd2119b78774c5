// `moescope-cli info MODEL`: what a model file holds, in words a student can read.
#include <iomanip>
#include <iostream>
#include <optional>

#include "cli_common.hpp"
#include "moe/cpu_level.hpp"
#include "moe/openblas_setup.hpp"

namespace moescope::cli {

namespace {

void run_info(const std::string& path, bool as_json) {
  const LoadedModel loaded = load_model(path);
  const moe::ModelConfig& config = loaded.model->config();
  const moe::ParameterCounts params = loaded.model->parameter_counts();
  const auto moe_layers = config.moe_layers();

  nlohmann::json types = nlohmann::json::array();
  for (const moe::TensorTypeUsage& usage : loaded.model->tensor_types()) {
    types.push_back({{"type", moe::type_name(usage.type)},
                     {"tensors", usage.n_tensors},
                     {"bytes", usage.n_bytes}});
  }
  // The assets folder this program uses (bundled model, prompt sets), so a user or a test can
  // see whether an installed copy or the build tree's is read.
  const std::optional<std::filesystem::path> assets = find_assets_dir();
  if (as_json) {
    nlohmann::json info = {
        {"model", config.name},
        {"path", loaded.model->path().string()},
        {"architecture", config.architecture},
        {"n_layer", config.n_layer},
        {"moe_layers", moe_layers},
        {"n_expert", config.n_expert},
        {"top_k", config.n_expert_used},
        {"n_embd", config.n_embd},
        {"n_head", config.n_head},
        {"n_head_kv", config.n_head_kv},
        {"n_ff", config.n_ff},
        {"n_ff_exp", config.n_ff_exp},
        {"n_vocab", config.n_vocab},
        {"context_length", config.n_ctx_train},
        {"head_dim", config.head_dim},
        {"head_dim_v", config.head_dim_v},
        {"n_rot", config.n_rot},
        {"routing", {{"gating", config.gating == moe::GatingFunction::Sigmoid ? "sigmoid" : "softmax"},
                     {"normalize_weights", config.normalize_expert_weights},
                     {"weights_scale", config.expert_weights_scale},
                     {"selection_bias", config.has_selection_bias},
                     {"n_layer_dense_lead", config.n_layer_dense_lead},
                     {"summary", moe::routing_summary(config)}}},
        {"shared_experts", {{"count", config.n_expert_shared},
                            {"n_ff", config.n_ff_shexp},
                            {"gated", config.shared_experts == moe::SharedExperts::SigmoidGated},
                            {"summary", moe::shared_experts_summary(config)}}},
        {"attention", moe::attention_summary(config, loaded.model->architecture())},
        {"rope", {{"scaling", moe::rope_scaling_name(config.rope_scaling)},
                  {"summary", moe::rope_summary(config, loaded.model->architecture())}}},
        {"parameters_total", params.total},
        {"parameters_active_per_token", params.active_per_token},
        {"tensor_types", types},
        {"memory", {{"weight_bytes", loaded.estimate.weight_bytes},
                    {"kv_cache_bytes", loaded.estimate.kv_cache_bytes},
                    {"kv_cache_positions", loaded.estimate.n_ctx},
                    {"available_bytes", loaded.estimate.memory_available_bytes},
                    {"exceeds_memory", loaded.estimate.exceeds_memory()}}},
        {"cpu_kernels", {{"level", moe::cpu::simd_level_name(moe::cpu::active_simd_level())},
                         {"summary", moe::cpu::simd_level_summary()}}},
        {"blas_kernels", {{"name", moe::openblas_kernels()},
                          {"summary", moe::openblas_kernels_summary()}}},
        {"tokenizer", {{"model", loaded.tokenizer->model_name()},
                       {"pre", loaded.tokenizer->pre_name()},
                       {"n_vocab", loaded.tokenizer->n_vocab()}}},
        {"assets_dir", assets ? nlohmann::json(assets->string()) : nlohmann::json(nullptr)}};
    std::cout << dump_json(info, 2) << "\n";
    return;
  }

  std::cout << "Model         " << (config.name.empty() ? "(unnamed)" : config.name) << "\n"
            << "File          " << loaded.model->path().string() << "\n"
            << "Architecture  " << config.architecture << "\n"
            << "Layers        " << config.n_layer << " (" << moe_layers.size() << " MoE, "
            << config.n_layer - static_cast<int>(moe_layers.size()) << " dense)\n"
            << "Experts       " << config.n_expert << " per MoE layer, top-" << config.n_expert_used
            << " chosen per token\n"
            << "Width         " << config.n_embd << " (heads " << config.n_head << ", KV heads "
            << config.n_head_kv << ", head dim " << config.head_dim << "), expert FFN "
            << config.n_ff_exp << ", dense FFN " << config.n_ff << "\n"
            << "Routing       " << moe::routing_summary(config) << "\n"
            << (moe::shared_experts_summary(config).empty()
                    ? std::string()
                    : "Shared        " + moe::shared_experts_summary(config) + "\n")
            << "Attention     " << moe::attention_summary(config, loaded.model->architecture())
            << "\n"
            << "RoPE          " << moe::rope_summary(config, loaded.model->architecture()) << "\n"
            << "Vocabulary    " << config.n_vocab << " tokens\n"
            << "Context       " << config.n_ctx_train << " tokens (trained)\n"
            << "Parameters    " << moe::human_count(static_cast<double>(params.total)) << " total, "
            << moe::human_count(static_cast<double>(params.active_per_token)) << " active per token ("
            << std::fixed << std::setprecision(1)
            << (params.total ? 100.0 * static_cast<double>(params.active_per_token) / static_cast<double>(params.total) : 0.0)
            << "%)\n"
            << "Tokenizer     " << loaded.tokenizer->model_name() << ", pre-tokenizer '"
            << (loaded.tokenizer->pre_name().empty() ? "default" : loaded.tokenizer->pre_name())
            << "', " << loaded.tokenizer->n_vocab() << " tokens\n"
            << "Tensor types ";
  for (const moe::TensorTypeUsage& usage : loaded.model->tensor_types()) {
    std::cout << " " << moe::type_name(usage.type) << " x" << usage.n_tensors << " ("
              << moe::human_bytes(usage.n_bytes) << ")";
  }
  std::cout << "\n"
            << "Memory        " << loaded.estimate.summary()
            << (loaded.estimate.exceeds_memory() ? "  (does not fit: runs through mmap, slowly)"
                                                 : "")
            << "\n"
            << "CPU kernels   " << moe::cpu::simd_level_summary() << "\n"
            << "BLAS kernels  " << moe::openblas_kernels_summary() << "\n"
            << "Assets        "
            << (assets ? assets->string() : "none found in " + describe_assets_candidates())
            << "\n";
}

}  // namespace

void register_info(CLI::App& app) {
  auto* command = app.add_subcommand("info", "Architecture, experts, parameters and tensor types of a model");
  auto path = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  add_model_argument(*command, *path);
  command->add_flag("--json", *as_json, "Print JSON");
  command->callback([path, as_json] { run_info(*path, *as_json); });
}

}  // namespace moescope::cli
