// moescope-cli: the command-line face of the compute core. Each subcommand lives in its own
// cmd_<name>.cpp. Errors from outside input end as one line on stderr and a non-zero exit.
#include <exception>
#include <iostream>

#include "cli_common.hpp"
#include "moe/error.hpp"

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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  } catch (const moe::Error& error) {
    std::cerr << "moescope-cli: error: " << error.what() << "\n";
    return 1;
  } catch (const std::exception& error) {
    std::cerr << "moescope-cli: internal error: " << error.what() << "\n";
    return 2;
  }
  return 0;
}
