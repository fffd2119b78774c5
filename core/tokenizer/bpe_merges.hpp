#pragma once
// The merge table of a byte-level BPE vocabulary and the merge loop that applies it to one word.
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

namespace moe::tokenizer_detail {

class BpeMerges {
public:
  // Registers merge number `rank` (0 = applied first): left + right -> result. A pair seen
  // before keeps its earlier (lower) rank.
  void add(int32_t left, int32_t right, int32_t result, int32_t rank);
  size_t size() const { return table_.size(); }

  // Merges `symbols` (token ids, one per byte to start with) in place until no pair is in the
  // table. Always the pair of lowest rank first; among equal pairs the leftmost. O(n log n).
  void apply(std::vector<int32_t>& symbols) const;

private:
  struct Merge {
    int32_t rank;
    int32_t result;
  };
  static uint64_t key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
  }
  const Merge* find(int32_t left, int32_t right) const;
  std::unordered_map<uint64_t, Merge> table_;
};

}  // namespace moe::tokenizer_detail
