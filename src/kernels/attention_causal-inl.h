// Per-ISA code, not an ordinary header: the body of AttentionCausal's jobs, compiled once per ISA.
// Include it inside an ISA target region (after isa_*_begin.h, or with LFM_ISA_NS defined as in
// ops.cpp) once Dot(a, b, n) and Axpy(a, x, n, y) for that ISA are defined in namespace lfm::LFM_ISA_NS.
// It includes nothing itself: <algorithm>, <cmath>, <vector> and kernels/ops.h come before the region.

namespace lfm::LFM_ISA_NS {
namespace {

void AttentionCausalJobs(const float* q, int64_t p0, const float* k, const float* v, const AttentionShape& s,
                         float* out, size_t job_begin, size_t job_end) {
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

}  // namespace
}  // namespace lfm::LFM_ISA_NS
