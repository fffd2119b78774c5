// One call per shader: its uniforms, buffer bindings and dispatch size.
#include <algorithm>

#include "gl_forward.hpp"
#include "moe/error.hpp"

namespace moe {

using gl::ceil_div;
using gl::kMatmulRowsPerGroup;
using gl::kMatmulTile;

namespace {

// The outputs of w's matmul: its rows, or in gated mode half of them (act(gate) * up per pair).
unsigned output_rows(const gl::Matrix& w, const gl::GatedOutput* gated) {
  return gated != nullptr ? w.rows / 2 : w.rows;
}

// `program` (a matmul program for w's type) in use, with the uniforms every call sets; in gated
// mode (`gated` given) it computes w.rows / 2 outputs.
gl::Program& use_matmul(gl::Device& device, gl::Program& program, const gl::Matrix& w,
                        const gl::Destination& out, unsigned in_stride,
                        const gl::GatedOutput* gated) {
  program.use();
  program.set("u_rows", output_rows(w, gated));
  program.set("u_cols", w.cols);
  program.set("u_row_bytes", w.row_bytes);
  program.set("u_matrix_bytes", w.matrix_bytes);
  program.set("u_in_stride", in_stride);
  program.set("u_out_stride", out.stride);
  program.set("u_out_col", out.col);
  program.set("u_accumulate", out.accumulate ? 1u : 0u);
  program.set("u_alpha", out.alpha);
  const bool has_bias = gated != nullptr && gated->biases != nullptr && gated->biases->size > 0;
  program.set("u_gated", gated != nullptr ? 1u : 0u);
  program.set("u_activation", gated != nullptr ? static_cast<unsigned>(gated->activation) : 0u);
  program.set("u_has_bias", has_bias ? 1u : 0u);
  gl::bind(0, w.buffer);
  gl::bind(5, has_bias ? gated->biases->buffer : device.dummy);
  const bool geglu = gated != nullptr && gated->activation == ExpertActivation::GeGlu;
  gl::bind(6, geglu ? device.gelu_table : device.dummy);
  return program;
}

}  // namespace

void GlBackend::Impl::matmul(const gl::Matrix& w, const gl::Buffer& in, unsigned n,
                             gl::Destination out, unsigned in_stride,
                             const gl::GatedOutput* gated) {
  // The block norm left for this matmul (block_norm): computed here, from the norm's input.
  const bool normed = pending_norm.has_value() && pending_norm->out == &in;
  gl::Program& program = use_matmul(
      *device, normed ? device->matmul_normed_program(w.type) : device->matmul_program(w.type),
      w, out, in_stride > 0 ? in_stride : w.cols, gated);
  if (normed) {
    program.set("u_norm_eps", pending_norm->eps);
    gl::bind(8, pending_norm->weight->buffer);
    gl::bind(9, *pending_norm->out);
    gl::bind(1, *pending_norm->in);
    pending_norm.reset();
  } else {
    gl::bind(1, in);
  }
  program.set("u_n_slots", n);
  program.set("u_grouped", 0u);
  program.set("u_gather", 0u);
  gl::bind(2, *out.buffer);
  gl::bind(3, device->dummy);
  gl::bind(4, device->dummy);
  gl::dispatch(ceil_div(output_rows(w, gated), kMatmulRowsPerGroup), ceil_div(n, kMatmulTile));
}

void GlBackend::Impl::matmul_grouped(const gl::Matrix& w, const gl::Buffer& in, bool gather,
                                     gl::Destination out, const gl::GatedOutput* gated) {
  gl::Program& program =
      use_matmul(*device, device->matmul_program(w.type), w, out, w.cols, gated);
  program.set("u_n_slots", 0u);
  program.set("u_grouped", 1u);
  program.set("u_gather", gather ? 1u : 0u);
  gl::bind(1, in);
  gl::bind(2, *out.buffer);
  gl::bind(3, scratch.groups);
  gl::bind(4, scratch.slot_rows);
  // Sizes {row tiles, slot tiles of the largest group, groups}, written by the grouping.
  const std::vector<unsigned>& row_tiles = scratch.grouped_row_tiles;
  const unsigned tiles = ceil_div(output_rows(w, gated), kMatmulRowsPerGroup);
  const auto command = static_cast<size_t>(
      std::find(row_tiles.begin(), row_tiles.end(), tiles) - row_tiles.begin());
  if (command == row_tiles.size()) throw Error("matmul_grouped: no dispatch size planned");
  gl::dispatch_indirect(scratch.groups,
                        sizeof(uint32_t) * (scratch.commands_at + 3 * command));
}

void GlBackend::Impl::matmul_fused(const gl::FusedMatrix& w, const gl::Buffer& in, unsigned n,
                                   gl::Buffer& out) {
  unsigned col = 0;
  for (const gl::Matrix& part : w.parts) {
    matmul(part, in, n, {&out, w.rows, col});
    col += part.rows;
  }
}

bool GlBackend::Impl::gated_in_matmul(const gl::FusedMatrix& gate_up) const {
  // Mixed-type [gate | up] parts are two matmuls, whose outputs glu.comp then joins.
  return fuse_kernels && gate_up.parts.size() == 1;
}

void GlBackend::Impl::gated_hidden(const gl::FusedMatrix& gate_up, ExpertActivation activation,
                                   const gl::Buffer& in, const gl::InputRows& rows,
                                   const gl::Vector* biases, gl::Buffer& hidden) {
  const unsigned n_ff = gate_up.rows / 2;
  if (gated_in_matmul(gate_up)) {
    const gl::GatedOutput gated{activation, biases};
    if (rows.grouped) {
      matmul_grouped(gate_up.parts[0], in, rows.gather, {&hidden, n_ff}, &gated);
    } else {
      matmul(gate_up.parts[0], in, rows.n, {&hidden, n_ff}, 0, &gated);
    }
    return;
  }
  gl::Buffer& products = scratch.gate_up;
  products.reserve(gl::floats(static_cast<size_t>(rows.n) * gate_up.rows));
  unsigned col = 0;
  for (const gl::Matrix& part : gate_up.parts) {
    if (rows.grouped) {
      matmul_grouped(part, in, rows.gather, {&products, gate_up.rows, col});
    } else {
      matmul(part, in, rows.n, {&products, gate_up.rows, col});
    }
    col += part.rows;
  }
  glu(activation, products, rows.n, n_ff, biases, hidden);
}

bool GlBackend::Impl::mix_in_matmul(const gl::LayerBuffers& layer, const gl::RoutedLayer& routed,
                                    unsigned n) const {
  // Decode only: with more tokens the grouped matmul reads an expert's weights once for up to a
  // tile of its tokens, the fused one once per token. The fused shader takes up to a tile of
  // choices per token and no down biases (gpt-oss's go through add()).
  return fuse_kernels && n == 1 && routed.on_gpu && routed.top_k <= kMatmulTile &&
         layer.down_bias.size == 0;
}

void GlBackend::Impl::down_and_mix(const gl::Matrix& down, unsigned n, gl::Destination out) {
  gl::Program& program = device->matmul_combine_program(down.type);
  program.use();
  program.set("u_rows", down.rows);
  program.set("u_cols", down.cols);
  program.set("u_row_bytes", down.row_bytes);
  program.set("u_matrix_bytes", down.matrix_bytes);
  program.set("u_in_stride", down.cols);
  program.set("u_out_stride", out.stride);
  program.set("u_accumulate", out.accumulate ? 1u : 0u);
  program.set("u_alpha", out.alpha);
  gl::bind(0, down.buffer);
  gl::bind(1, scratch.hidden);
  gl::bind(2, *out.buffer);
  gl::bind(3, scratch.token_ranges);
  gl::bind(4, scratch.choices);
  gl::bind(5, scratch.slot_experts);
  gl::bind(6, scratch.expert_out);
  gl::dispatch(ceil_div(down.rows, kMatmulRowsPerGroup), 1, n);
}

void GlBackend::Impl::add(gl::Buffer& target, const gl::Buffer* addend, const gl::Vector* bias,
                          unsigned n, unsigned cols, float clamp, const gl::Buffer* bias_rows) {
  const bool has_bias = bias != nullptr && bias->size > 0;
  if (addend == nullptr && !has_bias && clamp <= 0) return;
  gl::Program& program = *device->add;
  program.use();
  program.set("u_n", n);
  program.set("u_cols", cols);
  program.set("u_has_addend", addend != nullptr ? 1u : 0u);
  program.set("u_has_bias", has_bias ? 1u : 0u);
  program.set("u_bias_by_row", bias_rows != nullptr ? 1u : 0u);
  program.set("u_clamp", clamp);
  gl::bind(0, target);
  gl::bind(1, addend != nullptr ? *addend : device->dummy);
  gl::bind(2, has_bias ? bias->buffer : device->dummy);
  gl::bind(3, bias_rows != nullptr ? *bias_rows : device->dummy);
  gl::dispatch(ceil_div(n, 256));
}

void GlBackend::Impl::scale(gl::Buffer& target, unsigned n, float scale, float softcap) {
  if (scale == 1 && softcap <= 0) return;
  gl::Program& program = *device->softcap;
  program.use();
  program.set("u_n", n);
  program.set("u_scale", scale);
  program.set("u_softcap", softcap);
  gl::bind(0, target);
  gl::dispatch(ceil_div(n, 256));
}

void GlBackend::Impl::norm(NormKind kind, const gl::Buffer& in, unsigned first_row, unsigned n,
                           const gl::Vector& weight, const gl::Vector& bias, unsigned cols,
                           float eps, gl::Destination out) {
  gl::Program& program = *device->norm;
  program.use();
  program.set("u_cols", cols);
  program.set("u_first_row", first_row);
  program.set("u_eps", eps);
  program.set("u_layer_norm", kind == NormKind::Layer ? 1u : 0u);
  program.set("u_has_bias", bias.size > 0 ? 1u : 0u);
  program.set("u_accumulate", out.accumulate ? 1u : 0u);
  program.set("u_alpha", out.alpha);
  if (!out.accumulate) out.buffer->reserve(gl::floats(static_cast<size_t>(n) * cols));
  gl::bind(0, in);
  gl::bind(1, weight.buffer);
  gl::bind(2, bias.size > 0 ? bias.buffer : device->dummy);
  gl::bind(3, *out.buffer);
  gl::dispatch(n);
}

void GlBackend::Impl::block_norm(NormKind kind, const gl::Buffer& in, unsigned n,
                                 const gl::Vector& weight, const gl::Vector& bias, unsigned cols,
                                 float eps, gl::Buffer& out) {
  if (pending_norm.has_value()) throw Error("GL: a block norm was left for a matmul that never ran");
  // matmul.comp's normed input does RMSNorm without a bias, and binds 10 storage buffers.
  const bool fusable = fuse_kernels && kind == NormKind::Rms && bias.size == 0 &&
                       device->max_compute_storage_blocks >= 10;
  if (!fusable) {
    norm(kind, in, 0, n, weight, bias, cols, eps, {&out, cols});
    return;
  }
  out.reserve(gl::floats(static_cast<size_t>(n) * cols));
  pending_norm = gl::PendingNorm{&in, &weight, eps, &out};
}

void GlBackend::Impl::group_norm(gl::Buffer& rows, unsigned n, unsigned row_stride,
                                 unsigned first_col, unsigned n_groups, unsigned width,
                                 const gl::Vector* weight, float eps) {
  gl::Program& program = *device->group_norm;
  program.use();
  program.set("u_row_stride", row_stride);
  program.set("u_first_col", first_col);
  program.set("u_width", width);
  program.set("u_weighted", weight != nullptr ? 1u : 0u);
  program.set("u_eps", eps);
  gl::bind(0, rows);
  gl::bind(1, weight != nullptr ? weight->buffer : device->dummy);
  gl::dispatch(n_groups, n);
}

void GlBackend::Impl::rope(gl::Buffer& rows, const gl::Buffer& table, unsigned n,
                           unsigned n_heads, unsigned head_dim, unsigned offset,
                           unsigned row_stride, unsigned n_rot, RopePairing pairing) {
  gl::Program& program = *device->rope;
  program.use();
  program.set("u_n_heads", n_heads);
  program.set("u_head_dim", head_dim);
  program.set("u_n_rot", n_rot);
  program.set("u_offset", offset);
  program.set("u_row_stride", row_stride);
  program.set("u_split_halves", pairing == RopePairing::SplitHalves ? 1u : 0u);
  gl::bind(0, rows);
  gl::bind(1, table);
  gl::dispatch(ceil_div(n_rot / 2, 64), n_heads, n);
}

void GlBackend::Impl::glu(ExpertActivation activation, const gl::Buffer& gate_up,
                          unsigned n_rows, unsigned width, const gl::Vector* biases,
                          gl::Buffer& out) {
  const bool has_bias = biases != nullptr && biases->size > 0;
  gl::Program& program = *device->glu;
  program.use();
  program.set("u_n", n_rows * width);
  program.set("u_width", width);
  program.set("u_activation", static_cast<unsigned>(activation));
  program.set("u_has_bias", has_bias ? 1u : 0u);
  gl::bind(0, gate_up);
  gl::bind(1, out);
  gl::bind(2, has_bias ? biases->buffer : device->dummy);
  gl::bind(3, has_bias ? scratch.slot_experts : device->dummy);
  gl::bind(4, activation == ExpertActivation::GeGlu ? device->gelu_table : device->dummy);
  gl::dispatch(ceil_div(static_cast<size_t>(n_rows) * width, 256));
}

}  // namespace moe
