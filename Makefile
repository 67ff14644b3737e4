# edgellm — one Makefile, one platform per build.
#   make [PLATFORM=cuda|maca|cpu]   build ./edgellm
#   make deps                       Debian packages + static archives of simdjson, mimalloc, cpp-httplib
#   make test                       CPU platform tests + CUDA compile/link + ldd check; ends "N passed, N failed"
#   make gpu-test                   kernel tests against kernels/ref on a CUDA GPU
PLATFORM ?= cuda
# Build with every core unless the caller chose a -j.
ifeq ($(filter -j%,$(MAKEFLAGS)),)
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)
endif
ifeq ($(filter $(PLATFORM),cuda maca cpu),)
$(error PLATFORM must be one of cuda, maca, cpu (got '$(PLATFORM)'))
endif

BUILD   ?= build/$(PLATFORM)
DEPS    := build/deps
CUDA    ?= /usr/local/cuda
NVCC    ?= $(CUDA)/bin/nvcc
CXX     ?= g++
# Native code for A100 (sm_80), Ada (sm_89), Hopper (sm_90a: wgmma/TMA kernels), B200 (sm_100)
# and RTX Pro 6000-class Blackwell (sm_120), plus compute_120 PTX that the driver compiles for
# GPUs newer than all of these.
CUDA_ARCHS ?= -gencode=arch=compute_80,code=sm_80 -gencode=arch=compute_89,code=sm_89 \
              -gencode=arch=compute_90a,code=sm_90a -gencode=arch=compute_100,code=sm_100 \
              -gencode=arch=compute_120,code=[sm_120,compute_120]
MACA_PATH ?= /opt/maca

PLATFORM_DEF := -DEDGELLM_PLATFORM_$(shell echo $(PLATFORM) | tr a-z A-Z)
INCLUDES := -I. -I$(DEPS)/include -DCPPHTTPLIB_USE_POLL -DEDGELLM_FIXTURES=\"$(CURDIR)/tests/fixtures\"
CXXFLAGS ?= -O2 -g
CXXFLAGS += -std=c++17 -Wall -Wextra -Wno-unused-parameter -MMD -MP -pthread $(PLATFORM_DEF) $(INCLUDES)
NVCCFLAGS ?= -O3
NVCCFLAGS += -std=c++17 $(CUDA_ARCHS) --expt-relaxed-constexpr -MMD -MP $(PLATFORM_DEF) $(INCLUDES) \
             -Xcompiler -Wall,-Wno-unused-parameter
LDFLAGS += -static-libstdc++ -static-libgcc -pthread
LDLIBS  += $(DEPS)/lib/libsimdjson.a -ldl -lrt -lm

# httplib waits on sockets with poll() (CPPHTTPLIB_USE_POLL): select() cannot take descriptors
# past 1024, and the server holds thousands of connections.
# Sources. core/ and kernels/ref/ are shared by every platform; each platform adds its own
# platform file and kernel implementations. Test sources are tests/unit/<subsystem>/test_*.cpp.
CORE_SRC := $(wildcard core/*/*.cpp)
REF_SRC  := $(wildcard kernels/ref/*.cpp)
ifeq ($(PLATFORM),cpu)
PLAT_SRC := platform/platform_cpu.cpp kernels/kernels_cpu.cpp
else ifeq ($(PLATFORM),cuda)
PLAT_SRC := platform/platform_cuda.cu $(wildcard kernels/*.cu)
LDLIBS   += -L$(CUDA)/lib64 -lcudart_static
else ifeq ($(MACA_SHIM),1)
# MACA's API from tests/maca_shim, mapped onto CUDA and compiled by nvcc (CI has no MACA SDK):
# every CUDA name vendor_maca.h does not rename is poisoned (maca_poison.h), so using one
# outside platform/vendor_cuda.h fails this build. Compile only; nothing runs it.
PLAT_SRC := platform/platform_cuda.cu $(wildcard kernels/*.cu)
NVCCFLAGS := -O3 -std=c++17 -gencode=arch=compute_80,code=sm_80 --expt-relaxed-constexpr -MMD -MP \
             $(PLATFORM_DEF) $(INCLUDES) -DEDGELLM_VENDOR_MACA -Itests/maca_shim -I$(BUILD)/shim \
             -include maca_poison.h -diag-suppress 69 --resource-usage -Xcompiler -Wall,-Wno-unused-parameter
MACA_POISON := $(BUILD)/shim/maca_poison.h
else
PLAT_SRC := platform/platform_cuda.cu $(wildcard kernels/*.cu)
NVCC     := $(MACA_PATH)/mxgpu_llvm/bin/mxcc
NVCCFLAGS ?= -O3
NVCCFLAGS += -std=c++17 -x maca --offload-arch=xcore1000 -MMD -MP $(PLATFORM_DEF) $(INCLUDES) \
             -I$(MACA_PATH)/include -DEDGELLM_VENDOR_MACA
LDLIBS   += -L$(MACA_PATH)/lib -lmcruntime
endif
PLAT_SRC += platform/kernel_arch.cpp platform/nccl.cpp platform/comm_local.cpp

obj = $(patsubst %,$(BUILD)/%.o,$(1))
LIB_OBJ := $(call obj,$(CORE_SRC) $(REF_SRC) $(PLAT_SRC))
MAIN_OBJ := $(call obj,main.cpp)
MIMALLOC_OBJ := $(DEPS)/lib/mimalloc.o
TEST_SRC := $(wildcard tests/unit/*/test_*.cpp)
TEST_OBJ := $(call obj,$(TEST_SRC))

.PHONY: all deps test gpu-test demo dist clean maca-shim-check
all: ./edgellm

./edgellm: $(BUILD)/edgellm
	cp $< $@

$(BUILD)/edgellm: $(MAIN_OBJ) $(LIB_OBJ) $(MIMALLOC_OBJ)
	$(CXX) $(LDFLAGS) -o $@ $(MIMALLOC_OBJ) $(MAIN_OBJ) $(LIB_OBJ) $(LDLIBS)

$(BUILD)/edgellm_tests: $(TEST_OBJ) $(LIB_OBJ) $(MIMALLOC_OBJ)
	$(CXX) $(LDFLAGS) -o $@ $(MIMALLOC_OBJ) $(TEST_OBJ) $(LIB_OBJ) $(LDLIBS) -lgtest -lgtest_main

$(BUILD)/%.cpp.o: %.cpp | $(DEPS)/.done
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c $< -o $@

$(BUILD)/%.cu.o: %.cu $(MACA_POISON) | $(DEPS)/.done
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCCFLAGS) -c $< -o $@

$(MIMALLOC_OBJ): $(DEPS)/.done

$(BUILD)/shim/maca_poison.h: tests/maca_shim/make_poison.sh platform/vendor_maca.h
	@mkdir -p $(dir $@)
	bash $< $(CUDA)/include > $@

# Every device file of the MACA build, compiled through the shim (see MACA_SHIM above).
maca-shim-check: $(call obj,$(filter %.cu,$(PLAT_SRC)))

deps: $(DEPS)/.done
$(DEPS)/.done: deps.sh
	bash deps.sh $(DEPS)
	touch $@

# The test entry point CI runs. CPU platform: build and run every unit test; CUDA platform:
# compile and link (nothing runs it here) and check the binary's dynamic dependencies.
test: $(DEPS)/.done
	$(MAKE) PLATFORM=cpu build/cpu/edgellm build/cpu/edgellm_tests
	$(MAKE) PLATFORM=cuda build/cuda/edgellm
	bash tests/run_all.sh

gpu-test: $(DEPS)/.done
	$(MAKE) PLATFORM=cuda build/cuda/edgellm build/cuda/gpu_tests
	build/cuda/gpu_tests

GPU_TEST_SRC := $(wildcard tests/gpu/test_*.cu)
$(BUILD)/gpu_tests: $(call obj,$(GPU_TEST_SRC)) $(LIB_OBJ) $(MIMALLOC_OBJ)
	$(CXX) $(LDFLAGS) -o $@ $(MIMALLOC_OBJ) $(call obj,$(GPU_TEST_SRC)) $(LIB_OBJ) $(LDLIBS)

# Whole-model driver for tests/gpu/check_model.py (any platform).
$(BUILD)/model_check: $(call obj,tests/gpu/model_check.cpp) $(LIB_OBJ) $(MIMALLOC_OBJ)
	$(CXX) $(LDFLAGS) -o $@ $(MIMALLOC_OBJ) $(call obj,tests/gpu/model_check.cpp) $(LIB_OBJ) $(LDLIBS)

# Kernel benchmark (tests/gpu/bench_*.cu, main in bench_kernels.cu): make PLATFORM=cuda build/cuda/gpu_bench
GPU_BENCH_SRC := $(wildcard tests/gpu/bench_*.cu)
$(BUILD)/gpu_bench: $(call obj,$(GPU_BENCH_SRC)) $(LIB_OBJ) $(MIMALLOC_OBJ)
	$(CXX) $(LDFLAGS) -o $@ $(MIMALLOC_OBJ) $(call obj,$(GPU_BENCH_SRC)) $(LIB_OBJ) $(LDLIBS)

# Host time of the int4 repack at load (tests/bench/int4_repack_bench.cpp): make PLATFORM=cpu build/cpu/int4_repack_bench
$(BUILD)/int4_repack_bench: $(call obj,tests/bench/int4_repack_bench.cpp) $(LIB_OBJ) $(MIMALLOC_OBJ)
	$(CXX) $(LDFLAGS) -o $@ $(MIMALLOC_OBJ) $(call obj,tests/bench/int4_repack_bench.cpp) $(LIB_OBJ) $(LDLIBS)

# Host time of --quantization fp8 at load (tests/bench/online_fp8_bench.cpp): make PLATFORM=cpu build/cpu/online_fp8_bench
$(BUILD)/online_fp8_bench: $(call obj,tests/bench/online_fp8_bench.cpp) $(LIB_OBJ) $(MIMALLOC_OBJ)
	$(CXX) $(LDFLAGS) -o $@ $(MIMALLOC_OBJ) $(call obj,tests/bench/online_fp8_bench.cpp) $(LIB_OBJ) $(LDLIBS)

demo: $(DEPS)/.done
	$(MAKE) PLATFORM=cpu build/cpu/edgellm
	bash dist/demo.sh

clean:
	rm -rf build ./edgellm

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
