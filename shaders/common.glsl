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
