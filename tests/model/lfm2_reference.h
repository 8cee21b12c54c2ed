// A plain, slow LFM2 text decoder in double precision, written from the model's definition (HF
// modeling_lfm2: RMSNorm, gated short conv B*x -> causal depthwise conv -> C*, GQA attention with
// per-head q/k RMSNorm and NEOX RoPE, SwiGLU FFN, final embedding_norm, tied lm_head). It keeps
// every position's hidden input and recomputes each layer over the whole prefix: no cache, no
// blocking, no threads, nothing shared with the engine's kernels. Tests use it as the reference
// for long sequences where no llama.cpp logits exist; it is itself checked against llama.cpp's.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "model/lfm2_config.h"
#include "tensor/convert.h"
#include "weights/weight_store.h"

namespace lfm::testing {

class Lfm2Reference {
 public:
  Lfm2Reference(const Lfm2Config& c, const WeightStore& w) : c_(c), w_(w) {}

  // Logits [V] at each position in `at` for the token sequence `ids` (positions 0..ids.size()-1).
  std::vector<std::vector<double>> Logits(const std::vector<int32_t>& ids, const std::vector<int>& at) const {
    const int T = static_cast<int>(ids.size()), D = c_.hidden_size;
    std::vector<double> emb = Load("embed_tokens.weight");
    std::vector<std::vector<double>> x(T, std::vector<double>(D));
    for (int t = 0; t < T; ++t)
      for (int i = 0; i < D; ++i) x[t][i] = emb[static_cast<size_t>(ids[t]) * D + i];
    for (int l = 0; l < c_.num_hidden_layers; ++l) {
      const std::string p = "layers." + std::to_string(l) + ".";
      std::vector<std::vector<double>> h(T);
      const std::vector<double> op_norm = Load(p + "operator_norm.weight");
      for (int t = 0; t < T; ++t) h[t] = RmsNorm(x[t], op_norm);
      std::vector<std::vector<double>> mixed = c_.is_attention(l) ? Attention(p, h) : ShortConv(p, h);
      const std::vector<double> ffn_norm = Load(p + "ffn_norm.weight");
      const std::vector<double> w1 = Load(p + "feed_forward.w1.weight"), w3 = Load(p + "feed_forward.w3.weight"),
                                w2 = Load(p + "feed_forward.w2.weight");
      const int F = c_.intermediate_size;
      for (int t = 0; t < T; ++t) {
        for (int i = 0; i < D; ++i) x[t][i] += mixed[t][i];
        std::vector<double> n = RmsNorm(x[t], ffn_norm);
        std::vector<double> g = MatVec(w1, F, n), u = MatVec(w3, F, n);
        for (int j = 0; j < F; ++j) g[j] = g[j] / (1.0 + std::exp(-g[j])) * u[j];
        std::vector<double> o = MatVec(w2, D, g);
        for (int i = 0; i < D; ++i) x[t][i] += o[i];
      }
    }
    const std::vector<double> final_norm = Load("embedding_norm.weight");
    std::vector<std::vector<double>> out;
    for (int t : at) out.push_back(MatVec(emb, c_.vocab_size, RmsNorm(x[t], final_norm)));
    return out;
  }

 private:
  std::vector<double> Load(const std::string& name) const {
    TensorView v = *w_.Get(c_.weight_prefix + name);
    std::vector<float> f(static_cast<size_t>(v.numel()));
    for (int64_t r = 0; r < v.rows(); ++r) DequantizeRow(v.dtype, v.row(r), f.data() + r * v.cols(), v.cols());
    return std::vector<double>(f.begin(), f.end());
  }

  // y[r] = sum_k W[r, k] x[k], W row-major [rows, x.size()].
  static std::vector<double> MatVec(const std::vector<double>& w, int rows, const std::vector<double>& x) {
    const size_t K = x.size();
    std::vector<double> y(rows, 0.0);
    for (int r = 0; r < rows; ++r) {
      double s = 0;
      for (size_t k = 0; k < K; ++k) s += w[r * K + k] * x[k];
      y[r] = s;
    }
    return y;
  }

  std::vector<double> RmsNorm(const std::vector<double>& x, const std::vector<double>& weight) const {
    double ss = 0;
    for (double v : x) ss += v * v;
    const double inv = 1.0 / std::sqrt(ss / x.size() + c_.norm_eps);
    std::vector<double> y(x.size());
    for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * inv * weight[i];
    return y;
  }

  std::vector<std::vector<double>> ShortConv(const std::string& p, const std::vector<std::vector<double>>& h) const {
    const int T = static_cast<int>(h.size()), D = c_.hidden_size, L = c_.conv_L_cache;
    const std::vector<double> in_proj = Load(p + "conv.in_proj.weight"), kernel = Load(p + "conv.conv.weight"),
                              out_proj = Load(p + "conv.out_proj.weight");
    // in_proj rows: [B; C; x], D each.
    std::vector<std::vector<double>> bx(T, std::vector<double>(D)), c(T);
    for (int t = 0; t < T; ++t) {
      std::vector<double> bcx = MatVec(in_proj, 3 * D, h[t]);
      for (int i = 0; i < D; ++i) bx[t][i] = bcx[i] * bcx[2 * D + i];
      c[t].assign(bcx.begin() + D, bcx.begin() + 2 * D);
    }
    std::vector<std::vector<double>> out(T);
    for (int t = 0; t < T; ++t) {
      std::vector<double> y(D, 0.0);
      for (int i = 0; i < D; ++i) {
        double s = 0;  // kernel [D, 1, L]: tap k multiplies the input L-1-k steps back
        for (int k = 0; k < L; ++k) {
          const int src = t - (L - 1) + k;
          if (src >= 0) s += kernel[i * L + k] * bx[src][i];
        }
        y[i] = c[t][i] * s;
      }
      out[t] = MatVec(out_proj, D, y);
    }
    return out;
  }

  void Rope(double* v, int pos) const {
    const int hd = c_.head_dim, half = hd / 2;
    for (int i = 0; i < half; ++i) {
      const double angle = pos * std::pow(c_.rope_theta, -2.0 * i / hd);
      const double a = v[i], b = v[i + half];
      v[i] = a * std::cos(angle) - b * std::sin(angle);
      v[i + half] = b * std::cos(angle) + a * std::sin(angle);
    }
  }

  std::vector<std::vector<double>> Attention(const std::string& p, const std::vector<std::vector<double>>& h) const {
    const int T = static_cast<int>(h.size()), D = c_.hidden_size, hd = c_.head_dim;
    const int H = c_.num_attention_heads, Hkv = c_.num_key_value_heads;
    const std::vector<double> wq = Load(p + "self_attn.q_proj.weight"), wk = Load(p + "self_attn.k_proj.weight"),
                              wv = Load(p + "self_attn.v_proj.weight"), wo = Load(p + "self_attn.out_proj.weight"),
                              qn = Load(p + "self_attn.q_layernorm.weight"),
                              kn = Load(p + "self_attn.k_layernorm.weight");
    std::vector<std::vector<double>> q(T), k(T), v(T);
    for (int t = 0; t < T; ++t) {
      q[t] = MatVec(wq, H * hd, h[t]);
      k[t] = MatVec(wk, Hkv * hd, h[t]);
      v[t] = MatVec(wv, Hkv * hd, h[t]);
      for (int head = 0; head < H; ++head) NormRope(q[t].data() + head * hd, qn, t);
      for (int head = 0; head < Hkv; ++head) NormRope(k[t].data() + head * hd, kn, t);
    }
    std::vector<std::vector<double>> out(T);
    for (int t = 0; t < T; ++t) {
      std::vector<double> ctx(H * hd, 0.0);
      for (int head = 0; head < H; ++head) {
        const int kvh = head / (H / Hkv);
        std::vector<double> score(t + 1);
        double mx = -1e300;
        for (int s = 0; s <= t; ++s) {
          double dot = 0;
          for (int i = 0; i < hd; ++i) dot += q[t][head * hd + i] * k[s][kvh * hd + i];
          score[s] = dot / std::sqrt(static_cast<double>(hd));
          mx = std::max(mx, score[s]);
        }
        double sum = 0;
        for (double& e : score) sum += (e = std::exp(e - mx));
        for (int s = 0; s <= t; ++s)
          for (int i = 0; i < hd; ++i) ctx[head * hd + i] += score[s] / sum * v[s][kvh * hd + i];
      }
      out[t] = MatVec(wo, D, ctx);
    }
    return out;
  }

  void NormRope(double* v, const std::vector<double>& weight, int pos) const {
    const int hd = c_.head_dim;
    std::vector<double> x(v, v + hd);
    std::vector<double> n = RmsNorm(x, weight);
    std::copy(n.begin(), n.end(), v);
    Rope(v, pos);
  }

  const Lfm2Config& c_;
  const WeightStore& w_;
};

}  // namespace lfm::testing
