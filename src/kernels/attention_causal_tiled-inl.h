// Per-ISA code, not an ordinary header: the causal attention of a whole prefill chunk on the tiled
// ("flash") kernels of flash_attention_avx512-inl.h or flash_attention_avx2-inl.h (kQBlock, kKBlock,
// FlashRows, FlashStart / FlashSweep / FlashFinish, TransposedKeyStride, TransposeKeys, PackValues),
// which must be included first, in the same anonymous namespace; <algorithm>, <atomic>,
// base/thread_pool.h and kernels/workspace.h come before the ISA region. It includes nothing itself.

// Causal attention of n queries at positions p0 .. p0+n-1 over keys 0 .. p0+n-1, tiled as the vision
// tower's attention (score tiles on transposed keys, online softmax in kKBlock-key blocks, P*V tiles).
// Every call goes through the same per-row operations in the same order -- FlashSweep's result for a
// row depends only on its query and the keys it sees, and key blocks always start at multiples of
// kKBlock -- so a token's output has the same bits whether it was prefilled in one chunk, in several,
// or decoded alone (a prefix-cache hit equals a fresh prefill). Two ways to feed it the keys:
// - few queries (decode, short continuations): one task per kv head and block of rows (a row is a
//   token and one of the group's heads), each transposing the keys one block at a time as it sweeps
//   them: the cache is read once, and nothing is packed that only one task would use;
// - a prefill chunk: keys and values packed per kv head once per call, key_chunk at a time (so the
//   copy stays bounded however long the context), shared by the group's heads and every block of
//   kQBlock tokens; a task (head, query block) carries its softmax state from chunk to chunk.
// The per-query jobs of ops_<isa>.cpp read each key row once per query and head and reduce every score
// horizontally; at a 1,800-token image prompt they were a quarter of the prefill.
// T: float (f32 KV cache) or uint16_t (bf16 bits, widened as they are transposed or packed).
constexpr int64_t kFewQueries = 32;  // below this many queries, keys are transposed block by block

template <typename T>
void AttentionCausalFewT(const float* q, int64_t n, int64_t p0, const T* k, const T* v, const AttentionShape& s,
                         float* out) {
  const int d = s.head_dim, H = s.n_heads, KV = s.n_kv_heads, group = H / KV;
  const int64_t qs = static_cast<int64_t>(H) * d, kvs = static_cast<int64_t>(KV) * d, total = p0 + n;
  const int64_t rows = n * group, row_blocks = (rows + kQBlock - 1) / kQBlock;
  const int64_t ldkt = TransposedKeyStride(kKBlock);
  DefaultThreadPool().ParallelFor(static_cast<size_t>(KV * row_blocks), [&](size_t b, size_t e, int) {
    // Per thread: the state, one block of keys transposed and its values as f32 rows.
    FlashRows st;
    st.o = ThreadScratch(ScratchSlot::kAttentionTask,
                         2 * static_cast<size_t>(kQBlock) * d + static_cast<size_t>(d * ldkt + kKBlock * d));
    st.q = st.o + kQBlock * d;
    float* const kt = st.q + kQBlock * d;
    float* const vb = kt + d * ldkt;
    const float* q_rows[kQBlock];
    float* out_rows[kQBlock];
    int64_t lim_abs[kQBlock], lim[kQBlock];
    for (size_t task = b; task < e; ++task) {
      const int kvh = static_cast<int>(task / row_blocks);
      const int64_t r0 = static_cast<int64_t>(task % row_blocks) * kQBlock;
      const int nq = static_cast<int>(std::min<int64_t>(kQBlock, rows - r0));
      for (int r = 0; r < nq; ++r) {  // rows token-major, so the limits are nondecreasing
        const int64_t t = (r0 + r) / group, h = static_cast<int64_t>(kvh) * group + (r0 + r) % group;
        q_rows[r] = q + t * qs + h * d, out_rows[r] = out + t * qs + h * d;
        lim_abs[r] = p0 + t + 1;
      }
      FlashStart(nq, d, st);
      for (int64_t j0 = 0; j0 < lim_abs[nq - 1]; j0 += kKBlock) {
        const int64_t nk = std::min<int64_t>(kKBlock, total - j0);
        TransposeKeys(k + j0 * kvs + kvh * d, kvs, nk, d, kKBlock, ldkt, kt);
        PackValues(v + j0 * kvs + kvh * d, kvs, nk, d, vb);
        for (int r = 0; r < nq; ++r) lim[r] = std::min(nk, lim_abs[r] - j0);
        FlashSweep(q_rows, nq, nk, lim, kt, ldkt, vb, d, d, s.scale, st);
      }
      FlashFinish(st, nq, d, out_rows);
    }
  });
}

template <typename T>
void AttentionCausalTiledT(const float* q, int64_t n, int64_t p0, const T* k, const T* v, const AttentionShape& s,
                           float* out, int64_t key_chunk) {
  if (n < kFewQueries) return AttentionCausalFewT(q, n, p0, k, v, s, out);
  const int d = s.head_dim, H = s.n_heads, KV = s.n_kv_heads, group = H / KV;
  const int64_t qs = static_cast<int64_t>(H) * d, kvs = static_cast<int64_t>(KV) * d;
  const int64_t total = p0 + n, n_blocks = (n + kQBlock - 1) / kQBlock;
  const int64_t n_chunks = (total + key_chunk - 1) / key_chunk;
  const int64_t nkp_max = (std::min(key_chunk, total) + kKBlock - 1) / kKBlock * kKBlock;
  const int64_t kt_head_max = d * TransposedKeyStride(nkp_max), v_head_max = nkp_max * d;
  // Per kv head, the current chunk's keys transposed and its values as contiguous f32 rows.
  float* const kt = ThreadScratch(ScratchSlot::kAttentionKeys, static_cast<size_t>(KV * kt_head_max));
  float* const vp = ThreadScratch(ScratchSlot::kAttentionValues, static_cast<size_t>(KV * v_head_max));
  // A task's online-softmax state between chunks: m, l and o of its kQBlock rows.
  const int64_t state_floats = kQBlock * (2 + d);
  float* const saved =
      n_chunks > 1 ? ThreadScratch(ScratchSlot::kAttentionState, static_cast<size_t>(H * n_blocks * state_floats))
                   : nullptr;
  for (int64_t c0 = 0; c0 < total; c0 += key_chunk) {
    const int64_t ck = std::min(key_chunk, total - c0), nkp = (ck + kKBlock - 1) / kKBlock * kKBlock;
    const int64_t ldkt = TransposedKeyStride(nkp);
    DefaultThreadPool().ParallelFor(static_cast<size_t>(KV), [&](size_t b, size_t e, int) {
      for (size_t h = b; h < e; ++h) {
        TransposeKeys(k + c0 * kvs + h * d, kvs, ck, d, nkp, ldkt, kt + h * kt_head_max);
        PackValues(v + c0 * kvs + h * d, kvs, ck, d, vp + h * v_head_max);
      }
    });
    // Query blocks that see a key of this chunk: block b's last query sees keys up to p0 + its last t.
    const int64_t first_block = std::clamp<int64_t>((c0 - p0) / kQBlock, 0, n_blocks);
    const int64_t n_tasks = (n_blocks - first_block) * H;
    // Costs grow with the block index (more keys), so tasks are claimed largest first from a shared
    // counter: each of the pool's chunks below claims tasks until none is left, whatever its range.
    std::atomic<int64_t> next{0};
    DefaultThreadPool().ParallelFor(static_cast<size_t>(std::max<int64_t>(n_tasks, 1)), [&](size_t, size_t, int) {
      FlashRows st;
      st.o = ThreadScratch(ScratchSlot::kAttentionTask, 2 * static_cast<size_t>(kQBlock) * d);
      st.q = st.o + kQBlock * d;
      int64_t lim[kQBlock];
      for (int64_t task; (task = next.fetch_add(1)) < n_tasks;) {
        const int64_t blk = n_blocks - 1 - task / H;
        const int h = static_cast<int>(task % H);
        const int64_t t0 = blk * kQBlock;
        const int nq = static_cast<int>(std::min<int64_t>(kQBlock, n - t0));
        if (p0 + t0 + nq <= c0) continue;  // sees no key of this chunk (not reached: first_block)
        for (int r = 0; r < nq; ++r) lim[r] = std::min(ck, p0 + t0 + r + 1 - c0);
        float* state = saved ? saved + (h * n_blocks + blk) * state_floats : nullptr;
        if (c0 == 0) {
          FlashStart(nq, d, st);
        } else {  // restore (rows past nq of the last tile are recomputed, never read)
          std::copy(state, state + kQBlock, st.m);
          std::copy(state + kQBlock, state + 2 * kQBlock, st.l);
          std::copy(state + 2 * kQBlock, state + state_floats, st.o);
        }
        const int kvh = h / group;
        const float* q_rows[kQBlock];
        for (int r = 0; r < nq; ++r) q_rows[r] = q + (t0 + r) * qs + static_cast<int64_t>(h) * d;
        FlashSweep(q_rows, nq, ck, lim, kt + kvh * kt_head_max, ldkt, vp + kvh * v_head_max, d, d, s.scale, st);
        if (p0 + t0 + nq <= c0 + ck) {  // the block's last key is in this chunk: done
          float* out_rows[kQBlock];
          for (int r = 0; r < nq; ++r) out_rows[r] = out + (t0 + r) * qs + static_cast<int64_t>(h) * d;
          FlashFinish(st, nq, d, out_rows);
        } else {
          std::copy(st.m, st.m + kQBlock, state);
          std::copy(st.l, st.l + kQBlock, state + kQBlock);
          std::copy(st.o, st.o + kQBlock * d, state + 2 * kQBlock);
        }
      }
    });
  }
}

void AttentionCausalTiled(const float* q, int64_t n, int64_t p0, const float* k, const float* v,
                          const AttentionShape& s, float* out, int64_t key_chunk) {
  AttentionCausalTiledT<float>(q, n, p0, k, v, s, out, key_chunk);
}

void AttentionCausalTiledBf16(const float* q, int64_t n, int64_t p0, const uint16_t* k, const uint16_t* v,
                              const AttentionShape& s, float* out, int64_t key_chunk) {
  AttentionCausalTiledT<uint16_t>(q, n, p0, k, v, s, out, key_chunk);
}
