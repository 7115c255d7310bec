#!/bin/bash
# `cmake --install` into an empty prefix, then the installed command and
# Python module are used from elsewhere: nothing may point back into the
# build or source tree.
# usage: install_test.sh BUILD_DIR PYTHON PYTHON_INSTALL_DIR
set -euo pipefail
build=$1 python=$2 pydir=$3
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" > /dev/null
test -x "$prefix/bin/seedchip"
cd "$prefix"
"$prefix/bin/seedchip" chip show seedchip-v2 --json | grep -q '"cores": 16'
PYTHONPATH="$prefix/$pydir" "$python" -s -c "
import os, seedchip
assert seedchip.__file__.startswith('$prefix/'), seedchip.__file__
c = seedchip.chip('seedchip-v2')
assert c.cores == 16, c.cores
r = seedchip.llm('llama-2-7b', chip=c, batch=4, prompt_len=64, gen_len=8)
assert r['output_tokens_per_s'] > 0
print('installed', seedchip.__file__)
"
