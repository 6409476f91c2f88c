#!/usr/bin/env bash
# Checks the public API with buf (lint rules in buf.yaml, plus formatting). If buf-baseline.binpb
# exists (an image of a released API: `buf build -o buf-baseline.binpb`), also fails on changes that
# break wire or JSON compatibility with it. Run by Maven in the verify phase of the proto module;
# skip with -Dbuf.skip=true (e.g. offline without a cached buf).
set -euo pipefail
cd "$(dirname "$0")"

BUF_VERSION=1.75.0

if ! command -v npx >/dev/null 2>&1; then
  echo "buf-lint.sh: 'npx' not found on PATH. Install Node.js (npm ships npx), or skip this check" \
    "with -Dbuf.skip=true." >&2
  exit 2
fi

buf() {
  npx --yes "@bufbuild/buf@${BUF_VERSION}" "$@"
}

if ! buf --version >/dev/null; then
  echo "buf-lint.sh: could not run @bufbuild/buf@${BUF_VERSION} through npx (is the npm registry" \
    "reachable?). Skip with -Dbuf.skip=true." >&2
  exit 2
fi

if ! buf lint; then
  echo "buf-lint.sh: buf lint FAILED: fix the findings above (rules: proto/buf.yaml)." >&2
  exit 1
fi

if ! buf format --diff --exit-code; then
  echo "buf-lint.sh: .proto files are not buf-formatted: run" \
    "'npx @bufbuild/buf@${BUF_VERSION} format -w' in proto/." >&2
  exit 1
fi

if [[ -f buf-baseline.binpb ]]; then
  if ! buf breaking --against buf-baseline.binpb; then
    echo "buf-lint.sh: buf breaking FAILED: the change breaks compatibility with buf-baseline.binpb." >&2
    exit 1
  fi
fi

echo "buf-lint.sh: buf lint and format OK"
