// Per-ISA code, not an ordinary header: the body of AttentionCausal's jobs (one query at a time), now
// only the portable kernel's (ops.cpp, LFM_ISA_NS scalar); the SIMD ISAs run the tiled kernel
// (attention_causal_tiled-inl.h). Include it once Dot(a, b, n) and Axpy(a, x, n, y) are defined in
// namespace lfm::LFM_ISA_NS, for f32 keys/values and for bf16 ones (b and x as const uint16_t*, widened
// to f32 on load).
// It includes nothing itself: <algorithm>, <cmath>, <vector> and kernels/ops.h come before the region.

namespace lfm::LFM_ISA_NS {
namespace {

// T: float (f32 KV cache) or uint16_t (bf16 bits); the arithmetic is f32 either way.
template <typename T>
void AttentionCausalJobsT(const float* q, int64_t p0, const T* k, const T* v, const AttentionShape& s, float* out,
                          size_t job_begin, size_t job_end) {
  const int d = s.head_dim, group = s.n_heads / s.n_kv_heads;
  const int64_t qs = static_cast<int64_t>(s.n_heads) * d, kvs = static_cast<int64_t>(s.n_kv_heads) * d;
  thread_local std::vector<float> sc;
  for (size_t job = job_begin; job < job_end; ++job) {
    const int64_t t = static_cast<int64_t>(job / s.n_heads);
    const int h = static_cast<int>(job % s.n_heads);
    const int kh = h / group;
    const int64_t len = p0 + t + 1;
    const float* qv = q + t * qs + h * d;
    sc.resize(len);
    float mx = -INFINITY;
    for (int64_t j = 0; j < len; ++j) {
      sc[j] = Dot(qv, k + j * kvs + kh * d, d) * s.scale;
      mx = std::max(mx, sc[j]);
    }
    float sum = 0;
    for (int64_t j = 0; j < len; ++j) sum += (sc[j] = std::exp(sc[j] - mx));
    float* o = out + t * qs + h * d;
    std::fill(o, o + d, 0.0f);
    for (int64_t j = 0; j < len; ++j) Axpy(sc[j], v + j * kvs + kh * d, d, o);
    const float inv = 1.0f / sum;
    for (int i = 0; i < d; ++i) o[i] *= inv;
  }
}

void AttentionCausalJobs(const float* q, int64_t p0, const float* k, const float* v, const AttentionShape& s,
                         float* out, size_t job_begin, size_t job_end) {
  AttentionCausalJobsT<float>(q, p0, k, v, s, out, job_begin, job_end);
}

void AttentionCausalBf16Jobs(const float* q, int64_t p0, const uint16_t* k, const uint16_t* v, const AttentionShape& s,
                             float* out, size_t job_begin, size_t job_end) {
  AttentionCausalJobsT<uint16_t>(q, p0, k, v, s, out, job_begin, job_end);
}

}  // namespace
}  // namespace lfm::LFM_ISA_NS
