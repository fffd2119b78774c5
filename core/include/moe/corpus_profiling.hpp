#pragma once
// Routing a corpus document into a CorpusProfile with a Session.
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "moe/corpus_profile.hpp"
#include "moe/session.hpp"

namespace moe {

// Routes `ids` (one document, BOS already in front where wanted) and adds the routing to
// `profile`. A document longer than the session's context is routed in consecutive windows of
// n_ctx tokens, each from an empty cache (as `moescope-cli ppl` scores a long text); within a
// window nothing is cut. Each window's logits at every position give the model's predicted next
// tokens (the by_predicted tables). Does not count the document in profile.documents. Returns
// the tokens routed.
int64_t profile_document(CorpusProfile& profile, Session& session, std::span<const int32_t> ids,
                         const std::string& domain);

}  // namespace moe
