#!/usr/bin/env bash
# Regenerate docs/report.png, the README's screenshot of the demo bundle's HTML report.
# Needs Debian's chromium (`apt-get install -y chromium`). Usage: scripts/screenshot.sh [WIDTH,HEIGHT]
set -euo pipefail
cd "$(dirname "$0")/.."
size="${1:-1280,1760}"
out_dir="target/screenshot"
mkdir -p "$out_dir" docs
cargo run --quiet -- analyze fixtures/bundles/oom-api-node -o "$out_dir/report.html"
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars \
  --user-data-dir="$profile" --window-size="$size" --screenshot="$PWD/docs/report.png" \
  "file://$PWD/$out_dir/report.html" 2>/dev/null
echo "wrote docs/report.png from $out_dir/report.html"
