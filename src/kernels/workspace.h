// Bytes held by the kernels' per-thread workspaces (the int8-quantized or bf16-rounded activations
// of the running call). Each grows to the largest call its thread has made and is kept for the
// thread's life so decode does not allocate: memory the process holds beyond the weights, the KV
// cache and the model's own scratch, reported with the scratch in Engine::memory_use().
#pragma once

#include <cstddef>
#include <cstdint>

namespace lfm {

// Process-wide (the kernels' thread pool is shared by every engine).
int64_t KernelWorkspaceBytes();
// A workspace buffer grew from `before` to `after` bytes (its capacity).
void NoteKernelWorkspace(size_t before, size_t after);

// Buffers kept per calling thread, one per slot: room for at least n values of T (contents
// unspecified; valid until the thread's next call for the same slot), grown to the largest request and
// reported as workspace, so the attention kernels' packed keys and values (megabytes per call, tens of
// calls per prompt), each thread's task state (every decode step) and the GEMM's rounded activations
// (~80 products per crop, ~50 per decoded token) are neither allocated and faulted in again each call
// nor left out of the memory accounting.
enum class ScratchSlot {
  kAttentionKeys,
  kAttentionValues,
  kAttentionState,
  kAttentionTask,
  kGemmActivations,   // GemmPacked's activations as bf16 or fp16 pairs
  kGemmRowExponents,  // their per-row fp16 scales (kFp16)
  kGemmUnscales,      // each job's per-row unscale (kFp16)
  kCount
};
void* ThreadScratchBytes(ScratchSlot slot, size_t bytes);  // 16-byte aligned
template <class T = float>
T* ThreadScratch(ScratchSlot slot, size_t n) {
  return static_cast<T*>(ThreadScratchBytes(slot, n * sizeof(T)));
}

}  // namespace lfm
