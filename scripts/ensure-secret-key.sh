#!/usr/bin/env bash
# Give an env file (default .env) a random SECRET_KEY the first time, and say so; never replace one.
set -euo pipefail
file=${1:-.env}
[[ -n ${SECRET_KEY:-} ]] && exit 0
grep -qs '^SECRET_KEY=.' "$file" && exit 0
key=$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')
[[ -s $file && -n $(tail -c1 "$file") ]] && echo >>"$file"
echo "SECRET_KEY=$key" >>"$file"
chmod 600 "$file"
echo "wrote a new random SECRET_KEY to $file (keep it secret: it signs sessions and logins)"
