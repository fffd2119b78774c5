#include "cli_common.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <unistd.h>

#include "backend_choice.hpp"
#include "moe/cpu_backend.hpp"
#include "moe/gl_backend.hpp"
#include "moe/cpu_level.hpp"
#include "moe/error.hpp"
#include "moe/utf8.hpp"
#include "moe/routing_data.hpp"
#include "moe/routing_stats.hpp"
#include "moe/text_file.hpp"
#include "moe/token_display.hpp"
#include "moe/session.hpp"
#include "context_limit.hpp"

namespace moescope::cli {

std::filesystem::path bundled_model_path() { return find_asset("models/moescope-moe-v2.gguf"); }

std::string resolve_model_path(const std::string& path) {
  return path.empty() ? bundled_model_path().string() : path;
}

void add_model_argument(CLI::App& command, std::string& path) {
  command.add_option("MODEL", path, "GGUF model file (default: the bundled model)");
}

LoadedModel load_model(const std::string& path) {
  LoadedModel loaded;
  const std::filesystem::path resolved = resolve_model_path(path);
  // Progress on stderr only for a terminal and a file big enough to take a noticeable time;
  // scripts piping the output see nothing of it. Ctrl-C cancels.
  const bool show_progress = isatty(STDERR_FILENO) != 0;
  int last_percent = -1;
  moe::LoadResult result = moe::load_model_with_progress(
      resolved, 0, [&](uint64_t done, uint64_t total) {
        constexpr uint64_t kWorthShowing = 256ull << 20;
        if (!show_progress || total < kWorthShowing) return true;
        const int percent = static_cast<int>(100 * done / total);
        if (percent != last_percent) {
          std::fprintf(stderr, "\rloading %s: %d%% of %s", resolved.filename().c_str(), percent,
                       moe::human_bytes(total).c_str());
          if (done == total) std::fputc('\n', stderr);
          last_percent = percent;
        }
        return true;
      });
  if (!result.warning.empty()) std::cerr << "moescope-cli: warning: " << result.warning << "\n";
  loaded.model = std::move(result.model);
  loaded.estimate = result.estimate;
  // from_gguf's errors already name the file.
  loaded.tokenizer = std::make_unique<moe::Tokenizer>(moe::Tokenizer::from_gguf(loaded.model->file()));
  return loaded;
}

void add_threads_option(CLI::App& command, int& threads) {
  command.add_option("--threads", threads, "CPU threads (0: all cores)")
      ->check(CLI::Range(0, 1024));
}

std::shared_ptr<moe::Backend> make_cpu_backend(int threads, bool exact) {
  return make_compute_backend("cpu", threads, exact);
}

void add_backend_options(CLI::App& command, BackendChoice& choice) {
  command
      .add_option("--backend", choice.kind,
                  "Compute backend: cpu, or gl (OpenGL 4.3 compute shaders)")
      ->check(CLI::IsMember({"cpu", "gl"}));
  command.add_flag("--exact", choice.exact,
                   "The exact product of the stored weights: f32 activations instead of 8-bit "
                   "quantized ones (llama.cpp's CPU arithmetic, the default on quantized files); "
                   "slower. The gl backend always computes this way");
}

std::shared_ptr<moe::Backend> make_backend(const BackendChoice& choice, int threads) {
  return make_compute_backend(choice.kind, threads, choice.exact);
}

std::string describe_backend(const moe::Backend& backend) {
  if (const auto* gl = dynamic_cast<const moe::GlBackend*>(&backend))
    return gl->name() + " (" + gl->device_description() + ")";
  if (const auto* cpu = dynamic_cast<const moe::CpuBackend*>(&backend))
    return cpu->name() + " (" + std::to_string(cpu->n_threads()) + " threads, " +
           moe::cpu::simd_level_summary() + " kernels" +
           (computes_exactly_on_cpu(*cpu) ? ", exact: f32 activations" : "") + ")";
  return backend.name();
}

std::string read_text_file(const std::string& path) { return moe::read_text_file(path); }

std::optional<int32_t> bos_to_add(const LoadedModel& loaded, bool add_bos) {
  if (add_bos) return moe::prompt_bos(*loaded.tokenizer, loaded.model->file());
  return std::nullopt;
}

std::vector<int32_t> encode_prompt(const LoadedModel& loaded, const std::string& text, bool add_bos) {
  std::vector<int32_t> ids;
  if (const auto bos = bos_to_add(loaded, add_bos)) ids.push_back(*bos);
  const std::vector<int32_t> text_ids = loaded.tokenizer->encode(text);
  ids.insert(ids.end(), text_ids.begin(), text_ids.end());
  return ids;
}

int session_context(const LoadedModel& loaded) {
  return moe::default_context(loaded.model->config());
}

void cut_to_context(std::vector<int32_t>& ids, int n_ctx) {
  if (static_cast<int>(ids.size()) <= n_ctx) return;
  std::cerr << "moescope-cli: note: " << moescope::context_cut_note(ids.size(), n_ctx) << "\n";
  ids.resize(static_cast<size_t>(n_ctx));
}

namespace {

// Pads UTF-8 text with spaces to `columns` characters (std::setw would count bytes).
std::string pad_to_columns(const std::string& text, size_t columns) {
  size_t characters = 0;
  for (unsigned char c : text) characters += (c & 0xC0) != 0x80;
  return characters >= columns ? text : text + std::string(columns - characters, ' ');
}

std::string format_fixed(double value, int digits) {
  std::ostringstream stream;
  stream << std::fixed << std::setprecision(digits) << value;
  return stream.str();
}

}  // namespace

std::string printable_piece(const moe::Tokenizer& tokenizer, int32_t id) {
  return moe::display_token_texts(tokenizer, {id}).front();
}

std::string data_piece(const moe::Tokenizer& tokenizer, int32_t id) {
  return moe::replace_invalid_utf8(tokenizer.token_piece(id));
}

std::string dump_json(const nlohmann::json& value, int indent) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string fixed(double value, int digits) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(digits) << value;
  return out.str();
}

std::vector<moe::RoutingTokenInfo> routing_tokens(const LoadedModel& loaded,
                                                  const std::vector<int32_t>& ids,
                                                  int first_token, int end_token) {
  std::vector<moe::RoutingTokenInfo> tokens;
  for (int t = first_token; t < end_token; ++t) {
    const int32_t id = ids[static_cast<size_t>(t)];
    tokens.push_back({t, id, data_piece(*loaded.tokenizer, id)});
  }
  return tokens;
}

moe::RoutingModelInfo routing_model_info(const LoadedModel& loaded) {
  const moe::ModelConfig& config = loaded.model->config();
  return {config.name.empty() ? loaded.model->path().string() : config.name,
          loaded.model->path().string(), config.architecture, config.n_layer};
}

nlohmann::json routing_json(const LoadedModel& loaded, const std::vector<int32_t>& ids,
                            const moe::RoutingTrace& trace, int first_token) {
  return moe::routing_to_json(routing_model_info(loaded),
                              routing_tokens(loaded, ids, first_token, trace.n_tokens()), trace,
                              first_token);
}

void write_routing_csv(std::ostream& out, const LoadedModel& loaded,
                       const std::vector<int32_t>& ids, const moe::RoutingTrace& trace,
                       int first_token) {
  moe::write_routing_csv(out, routing_tokens(loaded, ids, first_token, trace.n_tokens()), trace,
                         first_token);
}

void write_routing_table(std::ostream& out, const LoadedModel& loaded,
                         const std::vector<int32_t>& ids, const moe::RoutingTrace& trace,
                         int first_token) {
  const moe::ModelConfig& config = loaded.model->config();
  out << "Routing: " << trace.n_tokens() - first_token << " tokens, " << trace.moe_layers().size()
      << " MoE layers, " << config.n_expert << " experts, top-" << config.n_expert_used << "\n";
  out << "Each cell: chosen experts as e<id>:<gate weight>, highest router score first.\n";
  if (!trace.interventions().empty()) {
    out << "Interventions: " << trace.interventions().describe()
        << " (x<id>: dropped for capacity; * a pin applied)\n";
  }
  out << "\n";
  // Shown as a sequence, so a character split across byte tokens reads as it does in the app.
  const std::vector<std::string> texts = moe::display_token_texts(*loaded.tokenizer, ids);
  for (int t = first_token; t < trace.n_tokens(); ++t) {
    const int32_t id = ids[static_cast<size_t>(t)];
    const std::string& shown = texts[static_cast<size_t>(t)];
    out << std::setw(4) << t << "  " << std::setw(6) << id << "  " << pad_to_columns("'" + shown + "'", 14);
    for (int layer : trace.moe_layers()) {
      const moe::RoutingRecord& record = trace.at(t, layer);
      out << " | L" << layer << ":";
      for (size_t j = 0; j < record.experts.size(); ++j) {
        out << " e" << record.experts[j] << ":" << format_fixed(record.weights[j], 2);
      }
      for (int32_t dropped : record.dropped) out << " x" << dropped;
      if (record.pinned) out << " *";
    }
    out << "\n";
  }
  const moe::RoutingStats stats = moe::compute_routing_stats(trace, first_token);
  out << "\nExpert load (tokens per expert) and balance per layer:\n";
  for (const moe::LayerLoad& load : stats.layers) {
    out << "  L" << std::setw(2) << load.layer << " [";
    for (size_t e = 0; e < load.token_counts.size(); ++e) {
      out << (e ? " " : "") << load.token_counts[e];
    }
    out << "]  cv " << format_fixed(load.cv, 2) << "  max/mean " << format_fixed(load.max_over_mean, 2)
        << "  aux " << format_fixed(load.switch_aux_loss, 3) << "  unused "
        << format_fixed(100 * load.unused_share, 0) << "%  entropy "
        << format_fixed(load.mean_entropy, 2) << " nats\n";
  }
}

}  // namespace moescope::cli
