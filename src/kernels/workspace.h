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

}  // namespace lfm
