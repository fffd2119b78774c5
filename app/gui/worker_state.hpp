#pragma once
// The worker thread's own state (worker.cpp, worker_playground.cpp): touched by that thread only.
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "moe/backend.hpp"
#include "moe/domain_routing.hpp"
#include "moe/expert_insights.hpp"
#include "moe/model.hpp"
#include "moe/session.hpp"
#include "moe/tokenizer.hpp"
#include "worker.hpp"

namespace moescope::gui {

using Milliseconds = std::chrono::duration<double, std::milli>;

// Why what needs the local model does nothing while a remote trace is shown.
inline constexpr const char* kRemoteTraceNote =
    "The routing shown came from a server or a file, not from the open model. Type a prompt "
    "(or open a model) to go back to the local model.";

struct Worker::State {
  std::shared_ptr<moe::Backend> backend;
  std::shared_ptr<const moe::Model> model;
  std::unique_ptr<moe::Tokenizer> tokenizer;
  std::unique_ptr<moe::Session> session;
  std::shared_ptr<const ModelInfo> info;
  uint64_t model_generation = 0;
  bool add_bos = false;
  std::string prompt;       // the prompt the session's first n_prompt_tokens come from
  int n_prompt_tokens = 0;  // session tokens from the prompt; later ones were generated
  std::string prompt_warning;
  std::shared_ptr<const DomainResult> domains;  // for the current model, once computed
  // The domain computation in progress, kept when it gives way to another request so that it
  // goes on where it stopped.
  struct DomainJob {
    std::filesystem::path folder;
    uint64_t model_generation = 0;
    moe::DomainRouting routing;  // the prompts routed so far, pooled per domain
  };
  std::optional<DomainJob> domain_job;
  // The playground: results published with every snapshot, and what they are computed from.
  std::shared_ptr<const PlaygroundResult> playground;
  std::string compare_prompt;
  std::vector<moe::RoutedText> domain_texts;  // domain prompts routed for explain_expert
  uint64_t domain_texts_generation = 0;       // the model they were routed on
  bool remote_shown = false;  // the published snapshot is a remote trace (worker_remote.cpp)
};

}  // namespace moescope::gui
