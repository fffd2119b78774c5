#pragma once
// One exception type for every failure caused by input from outside (files, prompts, arguments).
// The message says what was wrong and where: file, offset, key, tensor name or argument.
#include <stdexcept>
#include <string>

namespace moe {

class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

}  // namespace moe
