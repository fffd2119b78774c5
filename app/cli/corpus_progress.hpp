#pragma once
// What the commands that run over a whole corpus share (profile, compare-models): a progress
// line with tokens/s and ETA, Ctrl-C that stops after the current document, and the identity of
// the model a profile is made with.
#include <chrono>
#include <cstdint>

#include "cli_common.hpp"
#include "moe/corpus_profile.hpp"
#include "moe/session.hpp"

namespace moescope::cli {

// One status line on stderr, redrawn in place: tokens, tokens/s, share of the corpus, ETA.
class Progress {
public:
  Progress(bool quiet, int64_t max_tokens) : quiet_(quiet), max_tokens_(max_tokens) {}

  void update(int64_t tokens, double corpus_fraction, bool final_line = false);
  // Where this run starts: the tokens and the share of the corpus a resumed profile holds.
  void set_start(int64_t tokens, double corpus_fraction);

private:
  bool quiet_;
  int64_t max_tokens_;
  int64_t first_tokens_ = 0;
  double first_fraction_ = -1;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_{};
};

// While alive, the first Ctrl-C only sets requested() (the run stops after the current document
// and keeps what is done); a second one ends the program at once.
class StopOnCtrlC {
public:
  StopOnCtrlC();
  ~StopOnCtrlC() { release(); }
  StopOnCtrlC(const StopOnCtrlC&) = delete;
  StopOnCtrlC& operator=(const StopOnCtrlC&) = delete;
  bool requested() const;
  void release();  // Ctrl-C ends the program again
};

// The shape of `loaded`'s routing (from a trace of it) with its architecture and name.
moe::ProfileModel model_identity(const LoadedModel& loaded, const moe::RoutingTrace& shape);
// The same, from routing one token (BOS or id 0) through `session`.
moe::ProfileModel model_identity(const LoadedModel& loaded, moe::Session& session);

}  // namespace moescope::cli
