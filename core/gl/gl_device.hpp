#pragma once
// The GL backend's private pieces: buffers, compiled programs and the device that owns them.
#include <GL/glcorearb.h>

#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>

#include "gl_context.hpp"
#include "moe/ggml_types.hpp"

namespace moe::gl {

// A shader storage buffer; grows (discarding its contents) with reserve().
class Buffer {
public:
  Buffer() = default;
  Buffer(const void* data, size_t bytes);
  ~Buffer();
  Buffer(Buffer&& other) noexcept;
  Buffer& operator=(Buffer&& other) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  GLuint id() const { return id_; }
  size_t bytes() const { return bytes_; }
  // At least `bytes` bytes (contents undefined after growing).
  void reserve(size_t bytes);
  void upload(const void* data, size_t bytes, size_t offset = 0);
  void download(void* data, size_t bytes, size_t offset = 0) const;

private:
  GLuint id_ = 0;
  size_t bytes_ = 0;
};

class Program {
public:
  Program(const std::string& name, const std::string& source);
  ~Program();
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;

  void use() const;
  void set(const char* uniform, unsigned value);
  void set(const char* uniform, float value);
  void set(const char* uniform, const unsigned* values, size_t count);  // a uint array

private:
  GLint location(const char* uniform);
  GLuint id_ = 0;
  std::string name_;
  std::unordered_map<std::string, GLint> locations_;
};

// Whether the matmul shader reads this weight type.
bool matmul_supports(GgmlType type);

// The context and every compiled program; shared by the backend, its states and its weights so
// GL objects are deleted while the context still exists.
struct Device {
  std::unique_ptr<Context> context;
  // The matmul programs compiled so far, one per weight type: a model needs a few of the 30, so
  // each is compiled on its first matmul_program() call (the model's upload asks for its types).
  std::unordered_map<GgmlType, std::unique_ptr<Program>> matmul;
  std::unordered_map<GgmlType, std::unique_ptr<Program>> matmul_combine;  // matmul_combine.comp's, likewise
  std::unordered_map<GgmlType, std::unique_ptr<Program>> matmul_normed;   // NORMED_INPUT's
  std::unique_ptr<Program> norm, group_norm, shared_add, add, softcap, rope, kv_store, attention,
      glu, gather_rows, moe_combine, latent_kv, route, route_groups, trace_values;
  Buffer dummy;  // bound where a shader declares a buffer that a call does not use
  Buffer gelu_table;  // ggml's GELU of every f16 input (grok's GeGLU)
  Buffer iq_grids;  // the IQ types' grids (gl_weight_formats.hpp), bound at kIqGridBinding
  std::string description;
  int max_storage_block_bytes = 0;
  int max_compute_storage_blocks = 0;  // 8 at least (GL 4.3); a normed-input matmul binds 10

  Device();  // creates the context and compiles every program but matmul's; throws moe::Error
  ~Device();

  // The matmul program for a type the shader reads, compiled now if it is not yet (the
  // context must be current); throws moe::Error when it does not compile.
  Program& matmul_program(GgmlType type);
  // matmul_combine.comp's program for a type (the experts' down matrix with their mix).
  Program& matmul_combine_program(GgmlType type);
  // matmul.comp with NORMED_INPUT (the block norm computed inside the matmul); only where
  // max_compute_storage_blocks allows its 10 bindings.
  Program& matmul_normed_program(GgmlType type);
};

// Binds `buffer` to shader storage binding `index`.
inline void bind(GLuint index, const Buffer& buffer) {
  glBindBufferBase(GL_SHADER_STORAGE_BUFFER, index, buffer.id());
}

// Copies `bytes` bytes from offset `from_offset` of `from` to offset `to_offset` of `to`, on the
// GPU.
inline void copy(const Buffer& from, size_t from_offset, Buffer& to, size_t to_offset,
                 size_t bytes) {
  if (bytes == 0) return;
  glBindBuffer(GL_COPY_READ_BUFFER, from.id());
  glBindBuffer(GL_COPY_WRITE_BUFFER, to.id());
  glCopyBufferSubData(GL_COPY_READ_BUFFER, GL_COPY_WRITE_BUFFER,
                      static_cast<GLintptr>(from_offset), static_cast<GLintptr>(to_offset),
                      static_cast<GLsizeiptr>(bytes));
}

// MOESCOPE_GL_PROFILE: whether it is on, and a host-side step's wall time added to its totals.
bool profiling();
void profile_host_step(const std::string& name, double seconds);

// Dispatches submitted by this process so far (dispatch and dispatch_indirect).
long dispatch_count();

// Dispatch plus the barrier that makes its writes visible to the next dispatch or copy.
void dispatch(unsigned x, unsigned y = 1, unsigned z = 1);
// Dispatch with the sizes a shader wrote in `sizes` at byte `offset` (a
// DispatchIndirectCommand), after the barrier that makes them visible; then dispatch's barrier.
void dispatch_indirect(const Buffer& sizes, size_t offset);

}  // namespace moe::gl
