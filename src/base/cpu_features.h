// Which SIMD instruction set the kernels run, chosen once per process at run time.
// The binary is built for a portable baseline (x86-64-v2); the AVX2 and AVX-512 kernels are compiled
// per function for their ISA and only called when the CPU (and OS) runs them. The environment variable
// LFM_ISA=scalar|avx2|avx512|avx512bf16|avx512fp16 lowers the choice (to test or compare paths); it never raises it
// above what the CPU supports.
#pragma once

#include <string>

namespace lfm {

// Ordered: a higher level runs everything a lower one does.
enum class Isa { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

const char* IsaName(Isa isa);

// The highest level this CPU and OS support. avx2 = AVX2 + FMA + F16C; avx512 = that plus
// AVX-512 F/BW/VL/DQ. Always kScalar on non-x86 builds.
Isa DetectCpuIsa();

// Extensions beyond the Isa levels, for kernels that need them on top of a level (checked at run time,
// like the levels). AVX512_VNNI: vpdpbusd on zmm (int8 dot products, kernels/quant_matmul.h).
bool CpuHasAvx512Vnni();
// AVX512_BF16: vdpbf16ps (pairs of bf16 products accumulated into f32; kernels/bf16_dot.h).
bool CpuHasAvx512Bf16();
// AVX512_FP16: arithmetic on 32 fp16 lanes per zmm (vfmadd231ph: twice the products of an f32 FMA per
// instruction; kernels/vision_gemm.h's fp16 panels).
bool CpuHasAvx512Fp16();

struct IsaChoice {
  Isa isa = Isa::kScalar;
  std::string note;  // empty, or why `requested` was not taken as given
};

// The level to use on a CPU supporting `cpu` when LFM_ISA holds `requested` (null or empty: unset).
// Only lowers: a request above `cpu` is clamped to `cpu`; an unknown value keeps `cpu`. Both cases
// say so in `note`.
IsaChoice ResolveIsa(Isa cpu, const char* requested);

// ResolveIsa(DetectCpuIsa(), getenv("LFM_ISA")), computed once (thread-safe) and fixed for the life
// of the process. A non-empty note is also written to stderr once, so a mistyped LFM_ISA is never
// silently ignored.
Isa ActiveIsa();
const std::string& ActiveIsaNote();

// AVX512_BF16 is a feature on top of the avx512 level rather than a level of its own, so IsaName /
// kernel_isa reports stay as they are. Kernels that use it round their f32 activations to bf16 (as
// llama.cpp does), which halves the multiply cost of bf16 weights at the price of <= 2^-9 relative
// change per activation.
// Whether the AVX512_BF16 kernels run: the active level is avx512, the CPU has the feature, and
// LFM_ISA (`requested`) is unset or "avx512bf16". LFM_ISA=avx512 keeps the plain AVX-512 kernels
// (f32 math on widened bf16 weights), which is how those stay testable on a CPU with the feature.
bool ResolveAvx512Bf16(Isa active, bool cpu_has_bf16, const char* requested);
// ResolveAvx512Bf16(ActiveIsa(), CpuHasAvx512Bf16(), getenv("LFM_ISA")), fixed for the process.
bool ActiveAvx512Bf16();

// The same for AVX512_FP16, which the vision tower's GEMM uses for bf16 / f16 weights (fp16 products
// summed in fp16 over short runs, then in f32: kernels/vision_gemm.h). On when the active level is
// avx512, the CPU has the feature, and LFM_ISA is unset or "avx512fp16"; LFM_ISA=avx512 keeps the f32
// math everywhere.
bool ResolveAvx512Fp16(Isa active, bool cpu_has_fp16, const char* requested);
bool ActiveAvx512Fp16();

}  // namespace lfm
