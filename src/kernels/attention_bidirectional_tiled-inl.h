// Per-ISA code, not an ordinary header: bidirectional multi-head attention (every query sees keys
// 0 .. n_k-1; the vision tower) on the tiled kernels of flash_attention_avx512-inl.h or
// flash_attention_avx2-inl.h, which must be included first, in the same anonymous namespace;
// <algorithm>, <vector>, base/thread_pool.h and kernels/workspace.h come before the ISA region.

// q, k, v: rows of stride ld_in (a fused QKV buffer), head h at columns h*d; out rows of stride ld_out.
// Per head the keys are transposed once ([d][ldkt], zero padded to whole key blocks), so score tiles
// read contiguous runs of keys, and the values packed as contiguous rows; a task is one head and
// kQBlock queries.
void AttentionBidirectionalTiled(const float* q, const float* k, const float* v, int64_t ld_in, int64_t n_q,
                                 int64_t n_k, int H, int d, float scale, float* out, int64_t ld_out) {
  const int64_t nkp = (n_k + kKBlock - 1) / kKBlock * kKBlock, ldkt = TransposedKeyStride(nkp);
  float* const kt = ThreadScratch(ScratchSlot::kAttentionKeys, static_cast<size_t>(H) * d * ldkt);
  float* const vp = ThreadScratch(ScratchSlot::kAttentionValues, static_cast<size_t>(H) * n_k * d);
  DefaultThreadPool().ParallelFor(static_cast<size_t>(H), [&](size_t b, size_t e, int) {
    for (size_t h = b; h < e; ++h) {
      TransposeKeys(k + h * d, ld_in, n_k, d, nkp, ldkt, kt + h * d * ldkt);
      PackValues(v + h * d, ld_in, n_k, d, vp + h * n_k * d);
    }
  });
  const int64_t n_blocks = (n_q + kQBlock - 1) / kQBlock;
  DefaultThreadPool().ParallelFor(static_cast<size_t>(H * n_blocks), [&](size_t b, size_t e, int) {
    FlashRows st;
    st.o = ThreadScratch(ScratchSlot::kAttentionTask, 2 * static_cast<size_t>(kQBlock) * d);
    st.q = st.o + kQBlock * d;
    const float* q_rows[kQBlock];
    float* out_rows[kQBlock];
    for (size_t task = b; task < e; ++task) {
      const int h = static_cast<int>(task / n_blocks);
      const int64_t t0 = static_cast<int64_t>(task % n_blocks) * kQBlock;
      const int nq = static_cast<int>(std::min<int64_t>(kQBlock, n_q - t0));
      for (int r = 0; r < nq; ++r) q_rows[r] = q + (t0 + r) * ld_in + h * d, out_rows[r] = out + (t0 + r) * ld_out + h * d;
      FlashStart(nq, d, st);
      FlashSweep(q_rows, nq, n_k, nullptr, kt + static_cast<int64_t>(h) * d * ldkt, ldkt,
                 vp + static_cast<int64_t>(h) * n_k * d, d, d, scale, st);
      FlashFinish(st, nq, d, out_rows);
    }
  });
}
