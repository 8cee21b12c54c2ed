#include "base/cpu_features.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace lfm {

const char* IsaName(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return "avx512";
    case Isa::kAvx2: return "avx2";
    case Isa::kScalar: break;
  }
  return "scalar";
}

Isa DetectCpuIsa() {
#if defined(__x86_64__) || defined(__i386__)
  // libgcc's probe also checks (XGETBV) that the OS saves the YMM / ZMM state.
  __builtin_cpu_init();
  // F16C straight from CPUID leaf 1 (ECX bit 29): clang's __builtin_cpu_supports has no "f16c" (the
  // libFuzzer build uses clang), and F16C needs no OS state beyond what AVX2 already checked.
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  const bool f16c = __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & (1u << 29)) != 0;
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c;
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  if (avx512) return Isa::kAvx512;
  if (avx2) return Isa::kAvx2;
#endif
  return Isa::kScalar;
}

bool CpuHasAvx512Vnni() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return DetectCpuIsa() == Isa::kAvx512 && __builtin_cpu_supports("avx512vnni");
#else
  return false;
#endif
}

namespace {

// An AVX-512 extension's CPUID leaf 7 bit (sub-leaf, register 0..3 = EAX..EDX, bit), read directly: not
// every compiler's __builtin_cpu_supports knows the newer names. Only with the avx512 level: the ZMM
// state the OS must save is checked by that probe.
bool Avx512Leaf7Bit(unsigned subleaf, int reg, unsigned bit) {
#if defined(__x86_64__) || defined(__i386__)
  unsigned r[4] = {0, 0, 0, 0};
  return DetectCpuIsa() == Isa::kAvx512 && __get_cpuid_count(7, subleaf, &r[0], &r[1], &r[2], &r[3]) &&
         (r[reg] & (1u << bit)) != 0;
#else
  (void)subleaf, (void)reg, (void)bit;
  return false;
#endif
}

// An AVX-512 extension's kernels run when the active level is avx512, the CPU has it, and LFM_ISA
// (`requested`) is unset or names it.
bool ResolveAvx512Feature(Isa active, bool cpu_has, const char* requested, const char* name) {
  if (active < Isa::kAvx512 || !cpu_has) return false;
  return requested == nullptr || *requested == '\0' || std::strcmp(requested, name) == 0;
}

}  // namespace

bool CpuHasAvx512Bf16() {
  static const bool has = Avx512Leaf7Bit(1, 0, 5);  // sub-leaf 1, EAX bit 5
  return has;
}

IsaChoice ResolveIsa(Isa cpu, const char* requested) {
  if (requested == nullptr || *requested == '\0') return {cpu, ""};
  // "avx512bf16" / "avx512fp16" are the avx512 level plus one feature (ResolveAvx512Bf16 / Fp16 decide
  // the feature).
  const bool feature = std::strcmp(requested, "avx512bf16") == 0 || std::strcmp(requested, "avx512fp16") == 0;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (!(feature && isa == Isa::kAvx512) && std::strcmp(requested, IsaName(isa)) != 0) continue;
    if (isa > cpu) {
      return {cpu, std::string("LFM_ISA=") + requested + ": this CPU does not support it; using " + IsaName(cpu)};
    }
    return {isa, ""};
  }
  return {cpu, std::string("LFM_ISA=") + requested +
                   ": unknown value (expected scalar, avx2, avx512, avx512bf16 or avx512fp16); using " +
                   IsaName(cpu)};
}

namespace {

const IsaChoice& Active() {
  // A function-local static: initialised exactly once even when several threads get here first.
  static const IsaChoice choice = [] {
    IsaChoice c = ResolveIsa(DetectCpuIsa(), std::getenv("LFM_ISA"));
    if (!c.note.empty()) std::fprintf(stderr, "lfm: %s\n", c.note.c_str());
    return c;
  }();
  return choice;
}

}  // namespace

Isa ActiveIsa() { return Active().isa; }
const std::string& ActiveIsaNote() { return Active().note; }

bool ResolveAvx512Bf16(Isa active, bool cpu_has_bf16, const char* requested) {
  return ResolveAvx512Feature(active, cpu_has_bf16, requested, "avx512bf16");
}

bool CpuHasAvx512Fp16() {
  static const bool has = Avx512Leaf7Bit(0, 3, 23);  // sub-leaf 0, EDX bit 23
  return has;
}

bool ResolveAvx512Fp16(Isa active, bool cpu_has_fp16, const char* requested) {
  return ResolveAvx512Feature(active, cpu_has_fp16, requested, "avx512fp16");
}

bool ActiveAvx512Fp16() {
  static const bool on = ResolveAvx512Fp16(ActiveIsa(), CpuHasAvx512Fp16(), std::getenv("LFM_ISA"));
  return on;
}

bool ActiveAvx512Bf16() {
  static const bool on = ResolveAvx512Bf16(ActiveIsa(), CpuHasAvx512Bf16(), std::getenv("LFM_ISA"));
  return on;
}

}  // namespace lfm
