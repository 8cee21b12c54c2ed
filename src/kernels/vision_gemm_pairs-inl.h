// The loops around the pair-layout micro-kernels of GemmPacked (vision_gemm.h: bf16_pairs() with
// vdpbf16ps, fp16_pairs() with vfmadd231ph), which differ only in their micro-kernel: token blocks of
// kMC tokens (held in L2), K blocks of kKP pairs of one panel (held in L1, swept by every micro-tile of
// the token block), panels [p0, p1), then micro-tiles of kMR tokens and one tail tile of fewer.
// With one micro-tile of tokens or fewer (decode, M = 1..8) nothing reuses a K block, so each panel
// streams whole, start to end: one sequential read per panel for the prefetcher and no round trips of
// y. The sums are the same bits either way (same k order; y holds the exact f32 partial sums between
// blocks). Include inside an ISA region (isa_*_begin.h).
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "kernels/vision_gemm.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace lfm::avx512 {
namespace {

// Calls tile(std::integral_constant<int, M>{}, t) for the rest of a token range, 0 < rest < M + 1.
template <int M, class Tile>
inline void TailTile(int64_t rest, int64_t t, Tile& tile) {
  if constexpr (M > 0) {
    if (rest == M) {
      tile(std::integral_constant<int, M>{}, t);
    } else {
      TailTile<M - 1>(rest, t, tile);
    }
  }
}

// For every (token block, K block, panel) calls
//   tile(mr, t, block) for each micro-tile [t, t + mr) of the token block,
// where block holds the panel p, the K block's first pair k0 and pair count kpc, first = (k0 == 0), the
// panel's weights at k0 (wp), and the output lanes' masks (rows past w.rows() masked off).
struct PairBlock {
  int64_t p, k0, kpc;
  bool first;
  const uint16_t* wp;
  __mmask16 mask[3];
};

template <int kMR, class Tile>
inline void ForPairPanelTiles(const PackedGemmMatrix& w, int64_t n, int64_t p0, int64_t p1, int64_t kKP, int64_t kMC,
                              Tile&& tile) {
  constexpr int P = PackedGemmMatrix::kPanel;
  const int64_t KP = w.padded_cols() / 2;
  const int64_t kb = n <= kMR ? KP : kKP;
  for (int64_t t0 = 0; t0 < n; t0 += kMC) {
    const int64_t t1 = std::min(n, t0 + kMC);
    for (int64_t k0 = 0; k0 < KP; k0 += kb) {
      for (int64_t p = p0; p < p1; ++p) {
        PairBlock b{p, k0, std::min(kb, KP - k0), k0 == 0,
                    reinterpret_cast<const uint16_t*>(w.panel(p)) + k0 * 2 * P, {}};
        const int64_t valid = std::min<int64_t>(P, w.rows() - p * P);
        for (int c = 0; c < 3; ++c) {
          const int64_t left = std::clamp<int64_t>(valid - 16 * c, 0, 16);
          b.mask[c] = left >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << left) - 1u);
        }
        auto at = [&](auto mr, int64_t t) { tile(mr, t, b); };
        int64_t t = t0;
        for (; t + kMR <= t1; t += kMR) at(std::integral_constant<int, kMR>{}, t);
        TailTile<kMR - 1>(t1 - t, t, at);
      }
    }
  }
}

}  // namespace
}  // namespace lfm::avx512
