#include "bpe_merges.hpp"

#include <queue>

namespace moe::tokenizer_detail {

void BpeMerges::add(int32_t left, int32_t right, int32_t result, int32_t rank) {
  table_.try_emplace(key(left, right), Merge{rank, result});
}

const BpeMerges::Merge* BpeMerges::find(int32_t left, int32_t right) const {
  const auto it = table_.find(key(left, right));
  return it == table_.end() ? nullptr : &it->second;
}

void BpeMerges::apply(std::vector<int32_t>& symbols) const {
  const size_t n = symbols.size();
  if (n < 2) return;
  if (n == 2) {  // the common short case without the heap
    if (const Merge* merge = find(symbols[0], symbols[1])) symbols = {merge->result};
    return;
  }

  // Symbols form a linked list over their start positions; a merged-away symbol is marked dead.
  constexpr size_t kNone = static_cast<size_t>(-1);
  std::vector<size_t> prev(n), next(n);
  std::vector<bool> alive(n, true);
  for (size_t i = 0; i < n; ++i) {
    prev[i] = i == 0 ? kNone : i - 1;
    next[i] = i + 1 == n ? kNone : i + 1;
  }

  // Candidate merges, lowest rank first, then leftmost. Entries go stale when a neighbour
  // changes; they are checked against the current symbols when popped.
  struct Candidate {
    int32_t rank;
    size_t left;
    int32_t left_id;
    int32_t right_id;
    bool operator>(const Candidate& other) const {
      return rank != other.rank ? rank > other.rank : left > other.left;
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  const auto push = [&](size_t left) {
    if (left == kNone || next[left] == kNone) return;
    const int32_t right_id = symbols[next[left]];
    if (const Merge* merge = find(symbols[left], right_id))
      queue.push({merge->rank, left, symbols[left], right_id});
  };
  for (size_t i = 0; i + 1 < n; ++i) push(i);

  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    const size_t right = next[top.left];
    if (!alive[top.left] || right == kNone || symbols[top.left] != top.left_id ||
        symbols[right] != top.right_id)
      continue;  // stale
    symbols[top.left] = find(top.left_id, top.right_id)->result;
    alive[right] = false;
    next[top.left] = next[right];
    if (next[right] != kNone) prev[next[right]] = top.left;
    push(prev[top.left]);
    push(top.left);
  }

  size_t out = 0;
  for (size_t i = 0; i != kNone; i = next[i]) symbols[out++] = symbols[i];
  symbols.resize(out);
}

}  // namespace moe::tokenizer_detail
