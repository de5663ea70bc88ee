#!/bin/bash
# Run last by the device scripts: the device tool brings back at most 8 files
# from $OUT, so everything but the files named here (globs, relative to $OUT)
# goes into one $OUT/rest.tar.gz.
#   bash bench/device/pack_out.sh 'gpu-2*.json' 'gpu-2*.txt' bench-progress.log
set -u
out=${OUT:-/tmp/out}
cd "$out" || exit 0
shopt -s nullglob
[[ -e rest.tar.gz ]] && mv rest.tar.gz rest-earlier.tar.gz  # an earlier script's pack goes inside this one
keep=()
for pattern in "$@"; do
    for f in $pattern; do keep+=("$f"); done
done
rest=()
for f in *; do
    [[ " ${keep[*]} " == *" $f "* ]] || rest+=("$f")
done
if ((${#rest[@]})); then
    tar -czf rest.tar.gz "${rest[@]}" && rm -rf "${rest[@]}"
fi
echo "\$OUT: ${keep[*]}${rest:+ rest.tar.gz (${#rest[@]} more)}"
