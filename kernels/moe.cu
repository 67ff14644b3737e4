// moe.cu — the mixture-of-experts kernels of kernels.h on CUDA: not written yet. The loader
// refuses mixture-of-experts models on every platform but the CPU one (core/model/weights.cpp),
// so these are never reached; they stop the process with the reason if they are.
#include "kernels/common.cuh"

void moe_topk_forward(int32_t*, float*, const float*, int, int, int, bool, plat_stream_t) {
    PLAT_ASSERT(false, "moe_topk_forward: the mixture-of-experts kernels run on the CPU platform only");
}
size_t moe_workspace_bytes(int, int, int, int) { return 0; }
void moe_experts_forward(act_t*, const act_t*, const int32_t*, const float*, const Weight&,
                         const Weight&, int, int, int, int, void*, plat_stream_t) {
    PLAT_ASSERT(false, "moe_experts_forward: the mixture-of-experts kernels run on the CPU platform only");
}
void moe_shared_add_forward(act_t*, const act_t*, const float*, int, int, plat_stream_t) {
    PLAT_ASSERT(false, "moe_shared_add_forward: the mixture-of-experts kernels run on the CPU platform only");
}
