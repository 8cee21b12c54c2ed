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

// Float buffers kept per calling thread, one per slot: at least n floats (contents unspecified), grown
// to the largest request and reported as workspace, so the attention kernels' packed keys and values
// (megabytes per call, tens of calls per prompt) and each thread's task state (every decode step) are
// neither allocated and faulted in again each call nor left out of the memory accounting.
enum class ScratchSlot { kAttentionKeys, kAttentionValues, kAttentionState, kAttentionTask, kCount };
float* ThreadScratch(ScratchSlot slot, size_t n);

}  // namespace lfm
