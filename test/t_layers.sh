#!/bin/sh
# The layering rule of src/ (see doc/architecture.md): no upward include, no
# cycle between modules.  The check itself is scripts/check-layers.
exec python3 "${top_srcdir:-.}/scripts/check-layers" "${top_srcdir:-.}/src"
