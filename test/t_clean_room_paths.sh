#!/bin/sh
# No machine paths, no references to documents outside the tree, no citations
# of an outside spec in any tracked file (scripts/check-clean-room
# --paths-only; the full check, against tinc's source, is a developer's tool).
# Outside a git checkout (a release tarball) there is no list of tracked
# files to check: skipped.
top=${top_srcdir:-.}
git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1 || { echo "not a git checkout: skipped"; exit 77; }
exec python3 "$top/scripts/check-clean-room" --paths-only --tree "$top"
