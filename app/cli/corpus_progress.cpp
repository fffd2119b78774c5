#include "corpus_progress.hpp"

#include <algorithm>
#include <csignal>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "moe/session.hpp"

namespace moescope::cli {

namespace {

volatile std::sig_atomic_t stop_requested = 0;

extern "C" void request_stop(int) {
  stop_requested = 1;
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends at once
}

std::string seconds_text(double seconds) {
  if (!(seconds >= 0) || seconds > 1e7) return "?";
  const auto s = static_cast<int64_t>(seconds);
  std::ostringstream out;
  if (s >= 3600) out << s / 3600 << "h";
  if (s >= 60) out << std::setw(s >= 3600 ? 2 : 1) << std::setfill('0') << (s / 60) % 60 << "m";
  out << std::setw(s >= 60 ? 2 : 1) << std::setfill('0') << s % 60 << "s";
  return out.str();
}

}  // namespace

void Progress::update(int64_t tokens, double corpus_fraction, bool final_line) {
  using clock = std::chrono::steady_clock;
  const auto now = clock::now();
  if (quiet_ || (!final_line && now - last_ < std::chrono::milliseconds(500))) return;
  last_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(tokens - first_tokens_) / elapsed : 0;
  double fraction = corpus_fraction;
  if (max_tokens_ > 0) fraction = std::max(fraction, static_cast<double>(tokens) / max_tokens_);
  // From the progress of this run only: a resumed run skipped its first part in no time.
  if (first_fraction_ < 0) first_fraction_ = fraction;
  const double done = fraction - first_fraction_;
  const double eta = done > 0 ? elapsed * (1 - fraction) / done : -1;
  std::cerr << "\r" << tokens << " tokens, " << std::fixed << std::setprecision(0) << rate
            << " tokens/s, " << std::setprecision(1) << 100 * std::min(fraction, 1.0)
            << "%, ETA " << (final_line ? "0s" : seconds_text(eta)) << "    "
            << (final_line ? "\n" : "") << std::flush;
}

void Progress::set_start(int64_t tokens, double corpus_fraction) {
  first_tokens_ = tokens;
  first_fraction_ = corpus_fraction;
  if (max_tokens_ > 0) {
    first_fraction_ = std::max(first_fraction_, static_cast<double>(tokens) / max_tokens_);
  }
}

StopOnCtrlC::StopOnCtrlC() {
  stop_requested = 0;
  std::signal(SIGINT, request_stop);
}

bool StopOnCtrlC::requested() const { return stop_requested != 0; }

void StopOnCtrlC::release() { std::signal(SIGINT, SIG_DFL); }

moe::ProfileModel model_identity(const LoadedModel& loaded, const moe::RoutingTrace& shape) {
  moe::ProfileModel model = moe::profile_model_of(shape);
  const moe::ModelConfig& config = loaded.model->config();
  model.architecture = config.architecture;
  model.name = !config.name.empty() ? config.name : loaded.model->path().filename().string();
  return model;
}

moe::ProfileModel model_identity(const LoadedModel& loaded, moe::Session& session) {
  const std::optional<int32_t> bos = bos_to_add(loaded, true);
  const int32_t probe = bos.value_or(0);
  session.clear();
  session.set_tokens(std::span<const int32_t>(&probe, 1));
  return model_identity(loaded, session.trace());
}

}  // namespace moescope::cli
