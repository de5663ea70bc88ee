# Sourced by the device scripts: puts cuDNN, cuBLAS and NVRTC from PyTorch's
# pip packages (nvidia-cudnn-cu13 & co) on LD_LIBRARY_PATH, where the cuda
# backend module and the GPU tests load libcudnn.so.9 from. Sets $cuda_libdirs.
cuda_libdirs=$(python3 - <<'PY' 2>/dev/null
import importlib, os
found = []
for name in ("nvidia.cudnn", "nvidia.cublas", "nvidia.cuda_nvrtc", "nvidia.cuda_runtime", "nvidia.cu13"):
    try:
        module = importlib.import_module(name)
    except ImportError:
        continue
    bases = list(getattr(module, "__path__", [])) or [os.path.dirname(module.__file__)]
    for base in bases:
        for folder, _, files in os.walk(base):
            if any(f.startswith("lib") and ".so" in f for f in files) and folder not in found:
                found.append(folder)
print(":".join(found))
PY
)
if [[ -n $cuda_libdirs ]]; then
    export LD_LIBRARY_PATH="$cuda_libdirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    echo "library path from pip's nvidia packages: $cuda_libdirs"
else
    echo "no nvidia pip packages found by python3: cuDNN must be on the system's library path"
fi
