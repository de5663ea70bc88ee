# Finds the CUDA toolkit for the GPU path and enables the CUDA language.
# Included from the root CMakeLists.txt (not add_subdirectory'd): CMake wants
# enable_language(CUDA) in the top directory, because every target that links
# slipstream_cuda (gst/, tests/cuda/) needs CUDA's link settings.
#
# In:  SLIPSTREAM_CUDA = AUTO | ON | OFF
# Out: SLIPSTREAM_HAVE_CUDA (TRUE/FALSE), one status line either way.

set(SLIPSTREAM_HAVE_CUDA FALSE)
set(_ss_cuda_why "")

string(TOUPPER "${SLIPSTREAM_CUDA}" _ss_cuda_mode)
if(_ss_cuda_mode MATCHES "^(OFF|NO|FALSE|0)$")
  set(_ss_cuda_why "SLIPSTREAM_CUDA=OFF")
elseif(NOT _ss_cuda_mode MATCHES "^(AUTO|ON|YES|TRUE|1)$")
  message(FATAL_ERROR "SLIPSTREAM_CUDA must be AUTO, ON or OFF, not '${SLIPSTREAM_CUDA}'")
else()
  # nvcc is usually not on PATH; point check_language at the standard place
  # unless the user chose a compiler. Through CUDACXX, not CMAKE_CUDA_COMPILER,
  # so that check_language still tries the compiler instead of trusting it.
  if(NOT DEFINED CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX}
     AND EXISTS /usr/local/cuda/bin/nvcc)
    set(ENV{CUDACXX} /usr/local/cuda/bin/nvcc)
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(NOT CMAKE_CUDA_COMPILER)
    set(_ss_cuda_why "no CUDA toolkit found; install one or pass -DCMAKE_CUDA_COMPILER=...")
  else()
    # Take the toolkit that belongs to the compiler, not another one on PATH.
    if(NOT DEFINED CUDAToolkit_ROOT AND NOT DEFINED ENV{CUDAToolkit_ROOT})
      get_filename_component(_ss_nvcc_dir "${CMAKE_CUDA_COMPILER}" DIRECTORY)
      get_filename_component(CUDAToolkit_ROOT "${_ss_nvcc_dir}" DIRECTORY)
    endif()
    find_package(CUDAToolkit QUIET)
    if(NOT CUDAToolkit_FOUND OR NOT TARGET CUDA::cudart_static)
      set(_ss_cuda_why "the CUDA toolkit next to ${CMAKE_CUDA_COMPILER} lacks its headers or cudart_static")
    else()
      # Real code for Turing .. Hopper, PTX of the newest for later GPUs.
      if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
        set(CMAKE_CUDA_ARCHITECTURES "75-real;80-real;86-real;89-real;90-real;90-virtual")
      endif()
      enable_language(CUDA)
      set(SLIPSTREAM_HAVE_CUDA TRUE)
    endif()
  endif()
endif()

if(SLIPSTREAM_HAVE_CUDA)
  get_filename_component(_ss_cuda_root "${CUDAToolkit_BIN_DIR}" DIRECTORY)
  message(STATUS "slipstream GPU path: built with CUDA "
    "${CUDAToolkit_VERSION_MAJOR}.${CUDAToolkit_VERSION_MINOR} (${_ss_cuda_root}), "
    "architectures ${CMAKE_CUDA_ARCHITECTURES}")
elseif(_ss_cuda_mode MATCHES "^(ON|YES|TRUE|1)$")
  message(FATAL_ERROR "SLIPSTREAM_CUDA=ON but the GPU path cannot be built: ${_ss_cuda_why}")
else()
  message(STATUS "slipstream GPU path: not built (${_ss_cuda_why})")
endif()
