// `moescope-cli prune-plan P.moeprofile --keep SHARE --by reap|frequency|random --out PLAN.json
// [--seed N]`: which experts of each MoE layer to keep when pruning the model to SHARE of its
// experts, ranked from a corpus profile (moe/prune_plan.hpp). The plan is applied as an
// intervention with --prune-plan on route, generate and ppl: `ppl MODEL --file HELD_OUT.txt
// --prune-plan PLAN.json` gives the pruned model's perplexity and KL against the full model.
#include <iostream>

#include "cli_common.hpp"
#include "moe/corpus_profile_file.hpp"
#include "moe/prune_plan.hpp"

namespace moescope::cli {

namespace {

struct PrunePlanArgs {
  std::string profile_path;
  double keep = 0.75;
  std::string by = "reap";
  uint64_t seed = 0;
  std::string out_path;
};

std::string expert_list(const std::vector<int>& experts) {
  std::string text;
  for (int expert : experts) text += (text.empty() ? "e" : " e") + std::to_string(expert);
  return text.empty() ? "none" : text;
}

void run_prune_plan(const PrunePlanArgs& args) {
  const moe::CorpusProfile profile = moe::read_corpus_profile(args.profile_path);
  const moe::PrunePlan plan =
      moe::make_prune_plan(profile, args.keep, moe::parse_prune_criterion(args.by), args.seed);
  moe::write_prune_plan(args.out_path, plan);
  const size_t kept = plan.layers.empty() ? 0 : plan.layers.front().kept.size();
  std::cout << "Keeping " << kept << " of " << plan.model.n_expert << " experts per MoE layer by "
            << args.by << " (" << profile.tokens << " profiled tokens):\n";
  for (const moe::PrunedLayer& layer : plan.layers) {
    std::cout << "  layer " << layer.layer << ": keep " << expert_list(layer.kept) << "; prune "
              << expert_list(layer.pruned) << "\n";
  }
  std::cout << "Wrote " << args.out_path << ". Measure it on held-out text:\n  moescope-cli ppl MODEL "
            << "--file TEXT --prune-plan " << args.out_path << "\n";
}

}  // namespace

void register_prune_plan(CLI::App& app) {
  auto args = std::make_shared<PrunePlanArgs>();
  auto* command = app.add_subcommand(
      "prune-plan", "Which experts to keep when pruning, ranked from a .moeprofile (a JSON plan)");
  command->add_option("profile", args->profile_path, "The profile (.moeprofile)")->required();
  command->add_option("--keep", args->keep, "Share of each layer's experts to keep (default 0.75)")
      ->check(CLI::Range(0.0, 1.0));
  command->add_option("--by", args->by,
                      "reap (REAP saliency), frequency (tokens routed) or random (default reap)")
      ->check(CLI::IsMember({"reap", "frequency", "random"}));
  command->add_option("--seed", args->seed, "Seed of --by random (default 0)");
  command->add_option("--out,-o", args->out_path, "The plan to write (JSON)")->required();
  command->callback([args] { run_prune_plan(*args); });
}

}  // namespace moescope::cli
