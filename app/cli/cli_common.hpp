#pragma once
// What the moescope-cli subcommands share: loading a model with its tokenizer, the backend,
// prompt encoding, and the routing trace as JSON / CSV / a readable table.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "asset_paths.hpp"  // find_asset: the bundled model and prompt sets
#include "moe/backend.hpp"
#include "moe/model.hpp"
#include "moe/model_loading.hpp"
#include "moe/routing.hpp"
#include "moe/routing_data.hpp"
#include "moe/tokenizer.hpp"

namespace moescope::cli {

struct LoadedModel {
  std::shared_ptr<const moe::Model> model;
  std::unique_ptr<moe::Tokenizer> tokenizer;
  moe::MemoryEstimate estimate;  // weights, KV cache at the default context, memory available
};

// The bundled model (assets/models/moescope-moe-v2.gguf).
std::filesystem::path bundled_model_path();
// `path`, or the bundled model when `path` is empty.
std::string resolve_model_path(const std::string& path);
// The optional MODEL argument every model command takes (default: the bundled model).
void add_model_argument(CLI::App& command, std::string& path);

// Model::load (of resolve_model_path(path)) plus its tokenizer; throws moe::Error with the file
// name on failure.
LoadedModel load_model(const std::string& path);

// Adds the --threads option shared by every command that runs the model.
void add_threads_option(CLI::App& command, int& threads);
std::shared_ptr<moe::Backend> make_cpu_backend(int threads, bool exact = false);
// What --backend and --exact chose.
struct BackendChoice {
  std::string kind = "cpu";  // "cpu" or "gl"
  // The exact product of the stored weights: activations stay f32 (quantized weights are
  // converted to f32) instead of being quantized to 8 bits as llama.cpp's CPU backend does.
  bool exact = false;
};
// Adds --backend cpu|gl (default cpu) and --exact, shared by the commands that run the model.
void add_backend_options(CLI::App& command, BackendChoice& choice);
// "cpu" (with `threads`) or "gl" (OpenGL compute shaders); throws moe::Error saying why the GL
// backend cannot start (no GL 4.3 context, ...).
std::shared_ptr<moe::Backend> make_backend(const BackendChoice& choice, int threads);
// The backend's name with what it runs on, e.g. "cpu (16 threads)" or "gl (NVIDIA H100 ..., EGL device 0)".
std::string describe_backend(const moe::Backend& backend);

// The whole file as bytes; throws moe::Error naming the path when it cannot be read.
std::string read_text_file(const std::string& path);

// The BOS token to put first: when the model asks for it (tokenizer.ggml.add_bos_token, default
// true when the vocabulary has a BOS token) and `add_bos` is set; else none.
std::optional<int32_t> bos_to_add(const LoadedModel& loaded, bool add_bos);
// Prompt ids, with bos_to_add's BOS first.
std::vector<int32_t> encode_prompt(const LoadedModel& loaded, const std::string& text, bool add_bos);

// The context a command's session holds (moe::default_context of the model).
int session_context(const LoadedModel& loaded);

// The app's rule for a prompt longer than the context: keeps its first `n_ctx` ids and says so
// on stderr (moescope::context_cut_note).
void cut_to_context(std::vector<int32_t>& ids, int n_ctx);

// A token's text for the terminal and for figure labels, by the app's rule
// (moe::display_token_text): control bytes escaped, byte tokens as <0xNN>, "\n" for a newline.
std::string printable_piece(const moe::Tokenizer& tokenizer, int32_t id);

// A token's text for data files (JSON, CSV): its bytes, with invalid UTF-8 replaced by U+FFFD.
std::string data_piece(const moe::Tokenizer& tokenizer, int32_t id);

// Tokens [first_token, end_token) of `ids` as the data files describe them.
std::vector<moe::RoutingTokenInfo> routing_tokens(const LoadedModel& loaded,
                                                  const std::vector<int32_t>& ids,
                                                  int first_token, int end_token);
moe::RoutingModelInfo routing_model_info(const LoadedModel& loaded);

// The route JSON (moe::routing_to_json): schema_version, model, n_layer, n_expert, top_k, tokens, layers[].routing[], stats.
// Tokens [first_token, trace.n_tokens()) of `ids` are included.
nlohmann::json routing_json(const LoadedModel& loaded, const std::vector<int32_t>& ids,
                            const moe::RoutingTrace& trace, int first_token = 0);
// One row per (token, layer, expert): token,token_id,text,layer,expert,logit,prob,rank,weight.
void write_routing_csv(std::ostream& out, const LoadedModel& loaded,
                       const std::vector<int32_t>& ids, const moe::RoutingTrace& trace,
                       int first_token = 0);
// A readable table: per token the chosen experts and weights at each MoE layer, then the load.
void write_routing_table(std::ostream& out, const LoadedModel& loaded,
                         const std::vector<int32_t>& ids, const moe::RoutingTrace& trace,
                         int first_token = 0);

// JSON text that never throws on odd bytes (invalid UTF-8 is replaced).
std::string dump_json(const nlohmann::json& value, int indent = -1);
// `value` with `digits` decimals, as std::fixed prints it ("0.50").
std::string fixed(double value, int digits);

// Each subcommand registers itself on the app; defined in cmd_<name>.cpp.
void register_info(CLI::App& app);
void register_route(CLI::App& app);
void register_generate(CLI::App& app);
void register_tokenize(CLI::App& app);
void register_bench(CLI::App& app);
void register_make_model(CLI::App& app);
void register_train(CLI::App& app);
void register_ppl(CLI::App& app);
void register_plot(CLI::App& app);
void register_domains(CLI::App& app);
void register_plot_training(CLI::App& app);
void register_experts(CLI::App& app);
void register_compare(CLI::App& app);
void register_profile(CLI::App& app);
void register_profile_report(CLI::App& app);
void register_prune_plan(CLI::App& app);
void register_compare_models(CLI::App& app);
void register_import(CLI::App& app);

}  // namespace moescope::cli
