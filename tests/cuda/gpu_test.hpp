#pragma once
// How the GPU tests of the CUDA and cuDNN libraries begin: CUDA calls asserted
// with the runtime's own words, and each test skipped, with the reason, where
// there is no usable GPU.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <iostream>

#include "slipstream/cuda/devices.hpp"

#define ASSERT_CUDA(call)                                                                \
    do {                                                                                 \
        const cudaError_t status_ = (call);                                              \
        ASSERT_EQ(status_, cudaSuccess) << #call << ": " << cudaGetErrorString(status_); \
    } while (0)

// In SetUp(): skips without a usable GPU; otherwise makes the first one current
// and says which it is.
#define SELECT_GPU_OR_SKIP()                                                                               \
    do {                                                                                                   \
        const ::ss::cuda::Devices devices_ = ::ss::cuda::find_devices();                                   \
        if (devices_.list.empty()) GTEST_SKIP() << "no CUDA device: " << devices_.why_none;                \
        ASSERT_CUDA(cudaSetDevice(devices_.list[0].index));                                                \
        std::cout << "on GPU " << devices_.list[0].index << ": " << devices_.list[0].name << "\n";         \
    } while (0)
