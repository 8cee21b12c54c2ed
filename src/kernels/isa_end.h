// Closes the target region opened by isa_avx512_begin.h, isa_avx512bf16_begin.h, isa_avx512fp16_begin.h
// or isa_avx2_begin.h.
#if LFM_ISA_COMPILED
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif
#undef LFM_ISA_NS
#undef LFM_ISA_COMPILED
