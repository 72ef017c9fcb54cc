#!/usr/bin/env bash
# Formats the whole tree once (Prettier, then ESLint's autofixes) and checks that lint is clean.
# `npm run lint` (run by `npm test`) checks the same: run this after a merge that brings unformatted code.
set -euo pipefail
cd "$(dirname "$0")/.."
npx prettier --write .
npx eslint --fix .
npx eslint .
npx prettier --check .
