// moescope-cli: the command-line face of the compute core. Each subcommand lives in its own
// cmd_<name>.cpp. Errors from outside input end as one line on stderr and a non-zero exit.
#include <exception>
#include <iostream>
#include <string>

#include "cli_common.hpp"
#include "moe/error.hpp"

namespace {

bool has_subcommand(const CLI::App& app, const std::string& name) {
  for (const CLI::App* command : app.get_subcommands({})) {
    if (command->get_name() == name) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"moescope-cli: run Mixture-of-Experts models and inspect their routing"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "moescope-cli 0.1.0");
  moescope::cli::register_info(app);
  moescope::cli::register_route(app);
  moescope::cli::register_generate(app);
  moescope::cli::register_tokenize(app);
  moescope::cli::register_bench(app);
  moescope::cli::register_make_model(app);
  moescope::cli::register_train(app);
  moescope::cli::register_ppl(app);
  moescope::cli::register_plot(app);
  moescope::cli::register_domains(app);
  moescope::cli::register_plot_training(app);
  moescope::cli::register_experts(app);
  moescope::cli::register_compare(app);
  moescope::cli::register_profile(app);
  moescope::cli::register_profile_report(app);
  moescope::cli::register_prune_plan(app);
  moescope::cli::register_compare_models(app);
  moescope::cli::register_import(app);

  try {
    // CLI11 would only say "a subcommand is required" for a misspelt command: name it.
    if (argc > 1 && argv[1][0] != '-' && !has_subcommand(app, argv[1])) {
      std::cerr << "moescope-cli: error: unknown command '" << argv[1]
                << "' (commands: info, route, generate, tokenize, bench, make-model, train, ppl, plot, domains, plot-training, experts, compare, profile, profile-report)\n";
      return 1;
    }
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForAllHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForVersion& version) {
    return app.exit(version);
  } catch (const CLI::ParseError& error) {
    std::cerr << "moescope-cli: error: " << error.what() << " (see moescope-cli --help)\n";
    return error.get_exit_code() != 0 ? error.get_exit_code() : 1;
  } catch (const moe::Error& error) {
    std::cerr << "moescope-cli: error: " << error.what() << "\n";
    return 1;
  } catch (const std::exception& error) {
    std::cerr << "moescope-cli: internal error: " << error.what() << "\n";
    return 2;
  }
  return 0;
}
