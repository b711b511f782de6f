#!/usr/bin/env bash
# Run the README's two quick-start commands verbatim, as a new user would: in a fresh copy of
# the repository (its tracked and new, not ignored, files: no build folder, no .venv) in a
# temporary directory, with a new virtual environment from the system python3 and no
# packages installed beforehand. The commands are read from between the quickstart markers
# of README.md, so the README cannot drift from what is tested.
#
#   scripts/check_quickstart.sh            # PYTHON3=/usr/bin/python3 by default
#   KEEP=1 scripts/check_quickstart.sh     # keep the temporary copy for a look afterwards
#   scripts/check_quickstart.sh --print    # only print the two commands (after checking .ci/run)
#
# Exit status: that of the first failing command; 0 when both pass.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
python3_bin="${PYTHON3:-/usr/bin/python3}"

commands="$(sed -n '/<!-- quickstart-begin/,/<!-- quickstart-end -->/p' "$repo/README.md" | sed '/^<!--/d; /^```/d')"
if [ "$(printf '%s\n' "$commands" | grep -c .)" -ne 2 ]; then
  echo "check_quickstart: expected two commands between the quickstart markers of README.md, found:" >&2
  printf '%s\n' "$commands" >&2
  exit 1
fi
while IFS= read -r line; do
  grep -qxF "$line" "$repo/.ci/run" || { echo "check_quickstart: .ci/run does not run: $line" >&2; exit 1; }
done <<< "$commands"
if [ "${1:-}" = "--print" ]; then
  printf '%s\n' "$commands"
  exit 0
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/cgscore-quickstart.XXXXXX")"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
(cd "$repo" && git ls-files -z --cached --others --exclude-standard | xargs -0 -r cp --parents -t "$work" 2>/dev/null) || true
[ -f "$work/pyproject.toml" ] || { echo "check_quickstart: copying the repository failed" >&2; exit 1; }

# A PATH where `python3` is the system one: no active venv, no pyenv or conda shims in front.
bindir="$(dirname "$(readlink -f "$python3_bin")")"
clean_path="$work/.bin:$bindir:/usr/local/bin:/usr/bin:/bin"
mkdir -p "$work/.bin" && ln -s "$python3_bin" "$work/.bin/python3"

echo "check_quickstart: in $work with $("$python3_bin" --version) ($python3_bin)"
printf '%s\n' "$commands" | sed 's/^/  $ /'
log="${LOG:-${TMPDIR:-/tmp}/cgscore-quickstart.log}"
start=$(date +%s)
status=0
# One shell runs both lines, as a user types them; the user's site and Python variables are cleared.
env -u VIRTUAL_ENV -u PYTHONPATH -u PYTHONHOME -u PYTHONUSERBASE -u CONDA_PREFIX -u PYENV_VERSION \
    PATH="$clean_path" PYTHONNOUSERSITE=1 HOME="$work/.home" \
    bash -e -c "cd '$work' && $(printf '%s\n' "$commands")" > "$log" 2>&1 || status=$?
grep -v "^WARNING: Location" "$log" | tail -n 40
echo "check_quickstart: exit status $status after $(( $(date +%s) - start )) s (full output: $log)"
exit "$status"
