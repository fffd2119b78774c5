#include "gl_device.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <utility>
#include <vector>

#include "gl_shader_sources.hpp"
#include "gl_weight_formats.hpp"
#include "moe/error.hpp"
#include "moe/arch.hpp"
#include "moe/ggml_gelu.hpp"

namespace moe::gl {

namespace {

// The file's index in shader_sources(): the source-string number of its lines in compiler
// messages ("3:12(5): error ...").
size_t shader_index(std::string_view name) {
  const std::vector<ShaderSource>& sources = shader_sources();
  for (size_t i = 0; i < sources.size(); ++i) {
    if (sources[i].name == name) return i;
  }
  throw Error("the GL backend's shader " + std::string(name) + " is missing from the build");
}

std::string shader_text(std::string_view name) {
  return std::string(shader_sources()[shader_index(name)].text);
}

// The shader file with each line `#include "name"` replaced by that file of shaders/ (with its own
// includes, to a few levels), so a shader's pieces can live in files of their own. #line keeps
// compiler messages' line numbers those of the file they point into.
std::string with_includes(std::string_view file, int depth = 0) {
  if (depth > 3) throw Error("GL shader " + std::string(file) + ": includes nest too deep");
  const std::string text = shader_text(file);
  const std::string file_number = std::to_string(shader_index(file));
  const std::string_view directive = "#include \"";
  std::string out = "#line 1 " + file_number + "\n";
  int line = 1;
  for (size_t start = 0; start < text.size(); ++line) {
    const size_t end = std::min(text.find('\n', start), text.size());
    const std::string_view current(text.data() + start, end - start);
    start = end + 1;
    const size_t close = current.find('"', directive.size());
    if (!current.starts_with(directive) || close == std::string_view::npos) {
      out.append(current);
      out += '\n';
      continue;
    }
    out += with_includes(current.substr(directive.size(), close - directive.size()), depth + 1);
    out += "\n#line " + std::to_string(line + 1) + " " + file_number + "\n";
  }
  return out;
}

// "#version 430", the weight types' ids, block layouts and tables (gl_weight_formats.hpp),
// `defines`, shaders/common.glsl, then the shader with its includes.
std::string compose(std::string_view file, const std::string& defines) {
  std::string text = "#version 430\n";
  text += weight_format_defines();
  text += defines;
  text += shader_text("common.glsl");
  text += with_includes(file);
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

}  // namespace

bool matmul_supports(GgmlType type) {
  for (GgmlType supported : matmul_types()) {
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

void Program::set(const char* uniform, const unsigned* values, size_t count) {
  glProgramUniform1uiv(id_, location(uniform), static_cast<GLsizei>(count), values);
}

Device::Device() : context(Context::create()) {
  description = context->renderer() + ", " + context->version() + ", " + context->how();
  glGetIntegerv(GL_MAX_SHADER_STORAGE_BLOCK_SIZE, &max_storage_block_bytes);
  glGetIntegerv(GL_MAX_COMPUTE_SHADER_STORAGE_BLOCKS, &max_compute_storage_blocks);
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
  route = program("route.comp");
  route_groups = program("route_groups.comp");
  trace_values = program("trace_values.comp");
  const uint32_t zero[4] = {0, 0, 0, 0};
  dummy = Buffer(zero, sizeof zero);
  gelu_table = Buffer(ggml_gelu_table().data(), sizeof(float) * ggml_gelu_table().size());
  const std::vector<uint32_t> grid_words = iq_grid_words();
  iq_grids = Buffer(grid_words.data(), grid_words.size() * sizeof(uint32_t));
  bind(kIqGridBinding, iq_grids);
}

namespace {

// The program of `file` (matmul.comp or matmul_combine.comp) for weight type `type`, with
// `defines`, compiled on first use.
Program& typed_matmul_program(std::unordered_map<GgmlType, std::unique_ptr<Program>>& programs,
                              const char* file, GgmlType type, const std::string& variant = "",
                              const std::string& defines = "") {
  std::unique_ptr<Program>& program = programs[type];
  if (program == nullptr) {
    const std::string all_defines = "#define WEIGHT_TYPE " +
                                    std::to_string(static_cast<int>(type)) + "\n" + defines +
                                    activation_defines();
    program = std::make_unique<Program>(
        std::string(file) + " (" + type_name(type) + variant + ")", compose(file, all_defines));
  }
  return *program;
}

}  // namespace

Program& Device::matmul_program(GgmlType type) {
  return typed_matmul_program(matmul, "matmul.comp", type);
}

Program& Device::matmul_normed_program(GgmlType type) {
  return typed_matmul_program(matmul_normed, "matmul.comp", type, ", normed input",
                              "#define NORMED_INPUT\n");
}

Program& Device::matmul_combine_program(GgmlType type) {
  return typed_matmul_program(matmul_combine, "matmul_combine.comp", type);
}

Device::~Device() {
  print_profile();
  context->make_current();
  matmul.clear();
  matmul_combine.clear();
  matmul_normed.clear();
  for (std::unique_ptr<Program>* shader : {&norm, &group_norm, &shared_add, &add, &softcap, &rope,
                                           &kv_store, &attention, &glu, &gather_rows,
                                           &moe_combine, &latent_kv, &route, &route_groups,
                                           &trace_values})
    shader->reset();
  dummy = Buffer();
  gelu_table = Buffer();
  iq_grids = Buffer();
}

namespace {

std::atomic<long> dispatches_submitted{0};  // dispatch_count()

// Runs `submit` (one dispatch) and the barrier after it; with MOESCOPE_GL_PROFILE it is waited
// for and timed.
template <typename Submit>
void submit_dispatch(Submit submit) {
  ++dispatches_submitted;
  Profile& p = profile();
  if (!p.enabled) {
    submit();
    glMemoryBarrier(GL_SHADER_STORAGE_BARRIER_BIT | GL_BUFFER_UPDATE_BARRIER_BIT);
    return;
  }
  if (p.query == 0) glGenQueries(1, &p.query);
  glFinish();
  const auto start = std::chrono::steady_clock::now();
  glBeginQuery(GL_TIME_ELAPSED, p.query);
  submit();
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

}  // namespace

long dispatch_count() { return dispatches_submitted; }

void dispatch(unsigned x, unsigned y, unsigned z) {
  if (x == 0 || y == 0 || z == 0) return;
  submit_dispatch([&] { glDispatchCompute(x, y, z); });
}

void dispatch_indirect(const Buffer& sizes, size_t offset) {
  // The sizes were written by a shader: commands read them only after a command barrier.
  glMemoryBarrier(GL_COMMAND_BARRIER_BIT | GL_SHADER_STORAGE_BARRIER_BIT);
  glBindBuffer(GL_DISPATCH_INDIRECT_BUFFER, sizes.id());
  submit_dispatch([&] { glDispatchComputeIndirect(static_cast<GLintptr>(offset)); });
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
