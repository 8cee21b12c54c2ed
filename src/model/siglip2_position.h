// SigLIP2 NaFlex position embeddings: the learned grid x grid table is resized to each crop's patch
// grid (h_p, w_p) as HF Siglip2VisionEmbeddings.resize_positional_embeddings does, i.e.
// F.interpolate(mode="bilinear", align_corners=False, antialias=True) in float32 (facts §3.3).
#pragma once

#include <vector>

namespace lfm {

// One output sample of a 1-D resize: taps in[first .. first + weights.size()), weights sum to 1.
struct ResizeTaps {
  int first = 0;
  std::vector<float> weights;
};

// The per-axis filter of antialiased bilinear for in_len -> out_len samples:
//   out_len >= in_len: half-pixel bilinear (src = (i + 0.5) in/out - 0.5, clamped at the edges);
//   out_len <  in_len: triangle filter of support in/out around center (i + 0.5) in/out, normalised.
std::vector<ResizeTaps> AntialiasedBilinearTaps(int in_len, int out_len);

// table: [grid * grid, channels], row gy * grid + gx (gy = the first, "height" axis).
// out: [out_h * out_w, channels], row y * out_w + x. Width pass first, then height.
void ResizePositionGrid(const float* table, int grid, int channels, int out_h, int out_w, float* out);

}  // namespace lfm
