#!/usr/bin/env bash
# docs/attribution.md carries the registry's table as `integrad methods --markdown` prints it: a
# method added to the registry but not to the docs fails here. Usage: check_docs_table.sh BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
expected=$("$1/integrad" methods --markdown)
actual=$(sed -n '/<!-- methods table: begin -->/,/<!-- methods table: end -->/p' "$root/docs/attribution.md" | sed '1d;$d')
if [ "$expected" != "$actual" ]; then
  echo "docs/attribution.md's methods table is out of date; refresh it with: integrad methods --markdown"
  diff <(echo "$actual") <(echo "$expected") || true
  exit 1
fi
echo "docs/attribution.md's methods table matches the registry"
