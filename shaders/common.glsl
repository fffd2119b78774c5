// Shared by every moescope compute shader (prepended after the #version line and the defines).
// Weights live in SSBOs as raw little-endian bytes (uint words), in their stored GGUF type.

// The 32-bit little-endian word starting at byte `offset` of `words`, at any alignment.
#define LOAD_U32(words, offset)                                                       \
  (((offset) & 3u) == 0u ? words[(offset) >> 2]                                       \
                         : ((words[(offset) >> 2] >> (((offset) & 3u) * 8u)) |        \
                            (words[((offset) >> 2) + 1u] << (32u - ((offset) & 3u) * 8u))))

// The 16-bit value at an even byte offset.
#define LOAD_U16(words, offset) ((words[(offset) >> 2] >> (((offset) & 2u) * 8u)) & 0xffffu)

float half_to_float(uint bits) { return unpackHalf2x16(bits).x; }

// The byte at `offset`.
#define LOAD_U8(words, offset) ((words[(offset) >> 2] >> (((offset) & 3u) * 8u)) & 255u)

// tanh to about f32 precision everywhere (a GLSL tanh built from exp loses digits near 0 and
// may overflow for large inputs): the series near 0, (1 - e^-2|x|) / (1 + e^-2|x|) elsewhere.
float precise_tanh(float x) {
  float a = abs(x);
  if (a < 0.125) {
    float x2 = x * x;
    return x * (1.0 + x2 * (-1.0 / 3.0 + x2 * (2.0 / 15.0 + x2 * (-17.0 / 315.0))));
  }
  float e = exp(-2.0 * min(a, 15.0));
  return sign(x) * ((1.0 - e) / (1.0 + e));
}
