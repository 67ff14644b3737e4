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
CUDA_ARCHS ?= -gencode=arch=compute_80,code=sm_80 -gencode=arch=compute_89,code=sm_89 \
              -gencode=arch=compute_90a,code=sm_90a

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
else
PLAT_SRC := platform/platform_cuda.cu $(wildcard kernels/*.cu)
NVCC     := mxcc
NVCCFLAGS := -std=c++17 -x maca --offload-arch=xcore1000 $(PLATFORM_DEF) $(INCLUDES) -DEDGELLM_VENDOR_MACA
LDLIBS   += -lmcruntime
endif

obj = $(patsubst %,$(BUILD)/%.o,$(1))
LIB_OBJ := $(call obj,$(CORE_SRC) $(REF_SRC) $(PLAT_SRC))
MAIN_OBJ := $(call obj,main.cpp)
MIMALLOC_OBJ := $(DEPS)/lib/mimalloc.o
TEST_SRC := $(wildcard tests/unit/*/test_*.cpp)
TEST_OBJ := $(call obj,$(TEST_SRC))

.PHONY: all deps test gpu-test demo dist clean
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

$(BUILD)/%.cu.o: %.cu | $(DEPS)/.done
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCCFLAGS) -c $< -o $@

$(MIMALLOC_OBJ): $(DEPS)/.done

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

# Kernel benchmark (tests/gpu/bench_kernels.cu): make PLATFORM=cuda build/cuda/gpu_bench
$(BUILD)/gpu_bench: $(call obj,tests/gpu/bench_kernels.cu) $(LIB_OBJ) $(MIMALLOC_OBJ)
	$(CXX) $(LDFLAGS) -o $@ $(MIMALLOC_OBJ) $(call obj,tests/gpu/bench_kernels.cu) $(LIB_OBJ) $(LDLIBS)

demo: $(DEPS)/.done
	$(MAKE) PLATFORM=cpu build/cpu/edgellm
	bash dist/demo.sh

clean:
	rm -rf build ./edgellm

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
