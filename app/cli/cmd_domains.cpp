// `moescope-cli domains (MODEL | --server URL --model-config F) [--prompts DIR] [--json]`: per
// domain and MoE layer, the expert load over that domain's prompts, and per layer I(domain; top-1
// expert) in bits — how much the router's first choice tells about what kind of text it is reading.
#include <cmath>
#include <iomanip>
#include <iostream>
#include <numeric>

#include "cli_common.hpp"
#include "moe/domain_specialization.hpp"
#include "moe/error.hpp"
#include "prompt_sets.hpp"
#include "server_source.hpp"

namespace moescope::cli {

namespace {

struct DomainsArgs {
  std::string model_path;
  std::string prompts_dir;
  bool as_json = false;
  bool no_bos = false;
  int threads = 0;
  ServerSourceArgs server;
};

void run_domains(const DomainsArgs& args) {
  const auto dir = args.prompts_dir.empty() ? default_prompt_sets_dir() : std::filesystem::path(args.prompts_dir);
  const std::vector<moe::PromptSet> sets = moe::read_prompt_sets(dir);

  std::vector<moe::DomainTrace> domains;
  std::string model_name;
  if (uses_server(args.server)) {
    if (!args.model_path.empty())
      throw moe::Error("domains takes a model file or --server URL, not both");
    model_name = args.server.server_url;
    for (const moe::PromptSet& set : sets)
      domains.push_back({set.name, route_prompts_on_server(args.server, set.prompts)});
  } else {
    const LoadedModel loaded = load_model(args.model_path);
    model_name = loaded.model->path().string();
    moe::Session session(loaded.model, make_cpu_backend(args.threads));
    for (const moe::PromptSet& set : sets) {
      domains.push_back({set.name, route_pooled(loaded, session, set.prompts, !args.no_bos)});
    }
  }
  const std::vector<moe::LayerSpecialization> layers = moe::domain_specialization(domains);

  if (args.as_json) {
    nlohmann::json out_layers = nlohmann::json::array();
    for (const moe::LayerSpecialization& layer : layers) {
      nlohmann::json load = nlohmann::json::object();
      nlohmann::json top1 = nlohmann::json::object();  // share of the domain's first choices
      for (size_t d = 0; d < domains.size(); ++d) {
        load[domains[d].domain] = layer.load_share[d];
        const std::vector<long long>& counts = layer.top1_counts[d];
        const double tokens = static_cast<double>(std::accumulate(counts.begin(), counts.end(), 0LL));
        std::vector<double> shares;
        for (long long count : counts) shares.push_back(tokens > 0 ? count / tokens : 0.0);
        top1[domains[d].domain] = shares;
      }
      out_layers.push_back(
          {{"layer", layer.layer}, {"mi_bits", layer.mi_bits}, {"load", load}, {"top1", top1}});
    }
    nlohmann::json tokens = nlohmann::json::object();
    for (const moe::DomainTrace& domain : domains) tokens[domain.domain] = domain.trace.n_tokens();
    std::cout << dump_json({{"model", model_name},
                            {"prompts", dir.string()},
                            {"tokens", tokens},
                            {"mi_max_bits", std::log2(static_cast<double>(domains.size()))},
                            {"layers", out_layers}})
              << "\n";
    return;
  }

  std::cout << "Prompt sets in " << dir.string() << ":";
  for (const moe::DomainTrace& domain : domains) {
    std::cout << " " << domain.domain << " (" << domain.trace.n_tokens() << " tokens)";
  }
  std::cout << "\nI(domain; top-1 expert) can be at most " << std::fixed << std::setprecision(2)
            << std::log2(static_cast<double>(domains.size())) << " bits here.\n";
  for (const moe::LayerSpecialization& layer : layers) {
    std::cout << "\nLayer " << layer.layer << ": I(domain; top-1 expert) = " << std::setprecision(3)
              << layer.mi_bits << " bits. Share of each domain's routing per expert (%):\n"
              << std::setw(10) << "";
    for (size_t e = 0; e < layer.load_share.front().size(); ++e) std::cout << std::setw(6) << ("e" + std::to_string(e));
    std::cout << "\n";
    for (size_t d = 0; d < domains.size(); ++d) {
      std::cout << std::setw(10) << std::left << domains[d].domain << std::right << std::setprecision(0);
      for (double share : layer.load_share[d]) std::cout << std::setw(6) << 100 * share;
      std::cout << "\n";
    }
  }
}

}  // namespace

void register_domains(CLI::App& app) {
  auto args = std::make_shared<DomainsArgs>();
  auto* command = app.add_subcommand(
      "domains", "Expert load per domain of prompts and I(domain; top-1 expert) per layer");
  add_model_argument(*command, args->model_path);
  command->add_option("--prompts", args->prompts_dir,
                      "Folder of <domain>.txt prompt files (default: assets/prompts)");
  command->add_flag("--json", args->as_json, "Print JSON");
  command->add_flag("--no-bos", args->no_bos, "Do not put the BOS token first");
  add_threads_option(*command, args->threads);
  add_server_options(*command, args->server);
  command->callback([args] { run_domains(*args); });
}

}  // namespace moescope::cli
