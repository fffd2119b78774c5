#include "gl_device.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <utility>
#include <vector>

#include "gl_shader_sources.hpp"
#include "moe/error.hpp"
#include "moe/arch.hpp"
#include "moe/ggml_gelu.hpp"
#include "moe/gguf_blocks.hpp"

namespace moe::gl {

namespace {

std::string shader_text(std::string_view name) {
  for (const ShaderSource& source : shader_sources()) {
    if (source.name == name) return std::string(source.text);
  }
  throw Error("the GL backend's shader " + std::string(name) + " is missing from the build");
}

// The block layouts the matmul shader reads (moe/gguf_blocks.hpp), as byte sizes and offsets:
// Q4_K_BYTES, Q4_K_QS, ... so the shader has no layout numbers of its own.
std::string block_layout_defines() {
  const std::pair<const char*, size_t> layouts[] = {
      {"Q8_0_BYTES", sizeof(BlockQ8_0)},
      {"Q8_0_D", offsetof(BlockQ8_0, d)},
      {"Q8_0_QS", offsetof(BlockQ8_0, qs)},
      {"Q4_0_BYTES", sizeof(BlockQ4_0)},
      {"Q4_0_D", offsetof(BlockQ4_0, d)},
      {"Q4_0_QS", offsetof(BlockQ4_0, qs)},
      {"Q4_K_BYTES", sizeof(BlockQ4_K)},
      {"Q4_K_D", offsetof(BlockQ4_K, d)},  // d and dmin, read as one word
      {"Q4_K_SCALES", offsetof(BlockQ4_K, scales)},
      {"Q4_K_QS", offsetof(BlockQ4_K, qs)},
      {"Q5_K_BYTES", sizeof(BlockQ5_K)},
      {"Q5_K_QH", offsetof(BlockQ5_K, qh)},
      {"Q5_K_QS", offsetof(BlockQ5_K, qs)},
      {"Q6_K_BYTES", sizeof(BlockQ6_K)},
      {"Q6_K_QL", offsetof(BlockQ6_K, ql)},
      {"Q6_K_QH", offsetof(BlockQ6_K, qh)},
      {"Q6_K_SCALES", offsetof(BlockQ6_K, scales)},
      {"Q6_K_D", offsetof(BlockQ6_K, d)},
  };
  // The shader reads Q5_K's d, dmin and scales where Q4_K has them, d and dmin as one word.
  static_assert(offsetof(BlockQ5_K, d) == offsetof(BlockQ4_K, d) &&
                offsetof(BlockQ5_K, scales) == offsetof(BlockQ4_K, scales));
  static_assert(offsetof(BlockQ4_K, dmin) == offsetof(BlockQ4_K, d) + 2);
  std::string text;
  for (const auto& [name, value] : layouts)
    text += "#define " + std::string(name) + " " + std::to_string(value) + "u\n";
  return text;
}

// "#version 430", the type ids and block layouts as defines, `defines`, shaders/common.glsl,
// then the shader.
std::string compose(std::string_view file, const std::string& defines) {
  std::string text = "#version 430\n";
  const std::pair<const char*, GgmlType> types[] = {
      {"TYPE_F32", GgmlType::F32},   {"TYPE_F16", GgmlType::F16},   {"TYPE_BF16", GgmlType::BF16},
      {"TYPE_Q8_0", GgmlType::Q8_0}, {"TYPE_Q4_0", GgmlType::Q4_0}, {"TYPE_Q4_K", GgmlType::Q4_K},
      {"TYPE_Q5_K", GgmlType::Q5_K}, {"TYPE_Q6_K", GgmlType::Q6_K}};
  for (const auto& [name, type] : types)
    text += "#define " + std::string(name) + " " + std::to_string(static_cast<int>(type)) + "\n";
  text += block_layout_defines();
  text += defines;
  text += shader_text("common.glsl");
  text += "#line 1\n";
  text += shader_text(file);
  return text;
}

// ExpertActivation's values for glu.comp.
std::string activation_defines() {
  const std::pair<const char*, ExpertActivation> activations[] = {
      {"ACTIVATION_SWIGLU", ExpertActivation::SwiGlu},
      {"ACTIVATION_CLAMPED_SWIGLU", ExpertActivation::ClampedSwiGlu},
      {"ACTIVATION_GEGLU", ExpertActivation::GeGlu}};
  std::string text;
  for (const auto& [name, activation] : activations)
    text += "#define " + std::string(name) + " " +
            std::to_string(static_cast<int>(activation)) + "u\n";
  return text;
}

constexpr GgmlType kMatmulTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16,
                                     GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_K,
                                     GgmlType::Q5_K, GgmlType::Q6_K};

}  // namespace

bool matmul_supports(GgmlType type) {
  for (GgmlType supported : kMatmulTypes) {
    if (supported == type) return true;
  }
  return false;
}

Buffer::Buffer(const void* data, size_t bytes) {
  glGenBuffers(1, &id_);
  // Padding: shaders read whole words, sometimes one past a block's last byte.
  bytes_ = (bytes + 3) / 4 * 4 + 16;
  // GL 4.3 has no direct state access: buffers are filled through the copy-write target.
  glBindBuffer(GL_COPY_WRITE_BUFFER, id_);
  glBufferData(GL_COPY_WRITE_BUFFER, static_cast<GLsizeiptr>(bytes_), nullptr, GL_STATIC_DRAW);
  if (data != nullptr && bytes > 0)
    glBufferSubData(GL_COPY_WRITE_BUFFER, 0, static_cast<GLsizeiptr>(bytes), data);
}

Buffer::~Buffer() {
  if (id_ != 0) glDeleteBuffers(1, &id_);
}

Buffer::Buffer(Buffer&& other) noexcept
    : id_(std::exchange(other.id_, 0)), bytes_(std::exchange(other.bytes_, 0)) {}

Buffer& Buffer::operator=(Buffer&& other) noexcept {
  if (this != &other) {
    if (id_ != 0) glDeleteBuffers(1, &id_);
    id_ = std::exchange(other.id_, 0);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

void Buffer::reserve(size_t bytes) {
  if (id_ != 0 && bytes <= bytes_) return;
  if (id_ == 0) glGenBuffers(1, &id_);
  bytes_ = std::max<size_t>(bytes + 16, bytes_ * 3 / 2);
  glBindBuffer(GL_COPY_WRITE_BUFFER, id_);
  glBufferData(GL_COPY_WRITE_BUFFER, static_cast<GLsizeiptr>(bytes_), nullptr, GL_DYNAMIC_DRAW);
}

void Buffer::upload(const void* data, size_t bytes, size_t offset) {
  if (bytes == 0) return;
  glBindBuffer(GL_COPY_WRITE_BUFFER, id_);
  glBufferSubData(GL_COPY_WRITE_BUFFER, static_cast<GLintptr>(offset),
                  static_cast<GLsizeiptr>(bytes), data);
}

void Buffer::download(void* data, size_t bytes, size_t offset) const {
  if (bytes == 0) return;
  glBindBuffer(GL_COPY_READ_BUFFER, id_);
  glGetBufferSubData(GL_COPY_READ_BUFFER, static_cast<GLintptr>(offset),
                     static_cast<GLsizeiptr>(bytes), data);
}

Program::Program(const std::string& name, const std::string& source) : name_(name) {
  const GLuint shader = glCreateShader(GL_COMPUTE_SHADER);
  const char* text = source.c_str();
  glShaderSource(shader, 1, &text, nullptr);
  glCompileShader(shader);
  GLint ok = 0;
  glGetShaderiv(shader, GL_COMPILE_STATUS, &ok);
  if (!ok) {
    GLint length = 0;
    glGetShaderiv(shader, GL_INFO_LOG_LENGTH, &length);
    std::string log(static_cast<size_t>(std::max(length, 1)), '\0');
    glGetShaderInfoLog(shader, length, nullptr, log.data());
    glDeleteShader(shader);
    throw Error("the GL backend's shader " + name + " does not compile: " + log);
  }
  id_ = glCreateProgram();
  glAttachShader(id_, shader);
  glLinkProgram(id_);
  glDeleteShader(shader);
  glGetProgramiv(id_, GL_LINK_STATUS, &ok);
  if (!ok) {
    GLint length = 0;
    glGetProgramiv(id_, GL_INFO_LOG_LENGTH, &length);
    std::string log(static_cast<size_t>(std::max(length, 1)), '\0');
    glGetProgramInfoLog(id_, length, nullptr, log.data());
    glDeleteProgram(id_);
    throw Error("the GL backend's shader " + name + " does not link: " + log);
  }
}

Program::~Program() { glDeleteProgram(id_); }

namespace {

// MOESCOPE_GL_PROFILE=1: every dispatch is waited for, its GPU time measured with a timer query
// and its wall time (submission + wait) taken, summed per shader; the totals are printed to
// stderr when the device goes away. For finding where time goes, not for normal runs.
struct Profile {
  bool enabled = std::getenv("MOESCOPE_GL_PROFILE") != nullptr;
  std::string current;
  GLuint query = 0;
  struct Total {
    double wall_s = 0, gpu_s = 0;
    long count = 0;
  };
  std::map<std::string, Total> totals;
};
Profile& profile() {
  static Profile instance;
  return instance;
}

}  // namespace

void print_profile();

bool profiling() { return profile().enabled; }

void profile_host_step(const std::string& name, double seconds) {
  Profile::Total& total = profile().totals[name];
  total.wall_s += seconds;
  ++total.count;
}

void Program::use() const {
  glUseProgram(id_);
  if (profile().enabled) profile().current = name_;
}

GLint Program::location(const char* uniform) {
  auto found = locations_.find(uniform);
  if (found != locations_.end()) return found->second;
  const GLint location = glGetUniformLocation(id_, uniform);
  // -1: the compiler removed an unused uniform; setting it is then a no-op, which is fine.
  locations_.emplace(uniform, location);
  return location;
}

void Program::set(const char* uniform, unsigned value) {
  glProgramUniform1ui(id_, location(uniform), value);
}

void Program::set(const char* uniform, float value) {
  glProgramUniform1f(id_, location(uniform), value);
}

Device::Device() : context(Context::create()) {
  description = context->renderer() + ", " + context->version() + ", " + context->how();
  glGetIntegerv(GL_MAX_SHADER_STORAGE_BLOCK_SIZE, &max_storage_block_bytes);
  for (GgmlType type : kMatmulTypes) {
    matmul[type] = std::make_unique<Program>(
        "matmul.comp (" + type_name(type) + ")",
        compose("matmul.comp",
                "#define WEIGHT_TYPE " + std::to_string(static_cast<int>(type)) + "\n"));
  }
  const auto program = [](const char* file, const std::string& defines = "") {
    return std::make_unique<Program>(file, compose(file, defines));
  };
  norm = program("norm.comp");
  group_norm = program("group_norm.comp");
  shared_add = program("shared_add.comp");
  add = program("add.comp");
  softcap = program("softcap.comp");
  rope = program("rope.comp");
  kv_store = program("kv_store.comp");
  attention = program("attention.comp");
  glu = program("glu.comp", activation_defines());
  gather_rows = program("gather_rows.comp");
  moe_combine = program("moe_combine.comp");
  latent_kv = program("latent_kv.comp");
  const uint32_t zero[4] = {0, 0, 0, 0};
  dummy = Buffer(zero, sizeof zero);
  gelu_table = Buffer(ggml_gelu_table().data(), sizeof(float) * ggml_gelu_table().size());
}

Device::~Device() {
  print_profile();
  context->make_current();
  matmul.clear();
  for (std::unique_ptr<Program>* shader : {&norm, &group_norm, &shared_add, &add, &softcap, &rope,
                                           &kv_store, &attention, &glu, &gather_rows,
                                           &moe_combine, &latent_kv})
    shader->reset();
  dummy = Buffer();
  gelu_table = Buffer();
}

void dispatch(unsigned x, unsigned y, unsigned z) {
  if (x == 0 || y == 0 || z == 0) return;
  Profile& p = profile();
  if (!p.enabled) {
    glDispatchCompute(x, y, z);
    glMemoryBarrier(GL_SHADER_STORAGE_BARRIER_BIT | GL_BUFFER_UPDATE_BARRIER_BIT);
    return;
  }
  if (p.query == 0) glGenQueries(1, &p.query);
  glFinish();
  const auto start = std::chrono::steady_clock::now();
  glBeginQuery(GL_TIME_ELAPSED, p.query);
  glDispatchCompute(x, y, z);
  glMemoryBarrier(GL_SHADER_STORAGE_BARRIER_BIT | GL_BUFFER_UPDATE_BARRIER_BIT);
  glEndQuery(GL_TIME_ELAPSED);
  glFinish();
  GLuint64 nanoseconds = 0;
  glGetQueryObjectui64v(p.query, GL_QUERY_RESULT, &nanoseconds);
  Profile::Total& total = p.totals[p.current];
  total.wall_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  total.gpu_s += 1e-9 * static_cast<double>(nanoseconds);
  ++total.count;
}

void print_profile() {
  const Profile& p = profile();
  if (!p.enabled) return;
  std::fprintf(stderr,
               "GL dispatches per shader (MOESCOPE_GL_PROFILE): count, GPU time, wall time\n");
  for (const auto& [name, total] : p.totals) {
    const double each = 1e6 / static_cast<double>(std::max(1L, total.count));
    std::fprintf(stderr,
                 "  %-22s %7ld  GPU %9.3f ms (%6.1f us each)  wall %9.3f ms (%6.1f us each)\n",
                 name.c_str(), total.count, 1e3 * total.gpu_s, total.gpu_s * each,
                 1e3 * total.wall_s, total.wall_s * each);
  }
}

}  // namespace moe::gl
