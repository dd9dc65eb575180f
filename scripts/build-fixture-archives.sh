#!/usr/bin/env bash
# Build fixtures/bundles/<name>.tar.gz from each demo bundle directory, deterministically:
# sorted names, fixed mtime/owner/mode, `gzip -n` (no name or time in the gzip header).
# Paths inside are relative to the bundle directory (`./kern.log`), so analysing the archive
# gives the same evidence paths as analysing the directory (tests/archive_formats.rs checks it).
# Symlinks (sosreport's top-level links) are stored as links.
set -euo pipefail
cd "$(dirname "$0")/../fixtures/bundles"
for dir in */; do
  name="${dir%/}"
  tar --sort=name --format=gnu --mtime=@0 --owner=0 --group=0 --numeric-owner \
      --mode='a+rX,u+w,go-w' -C "$name" -cf - . | gzip -n -9 > "$name.tar.gz.tmp"
  mv "$name.tar.gz.tmp" "$name.tar.gz"
  echo "fixtures/bundles/$name.tar.gz"
done
