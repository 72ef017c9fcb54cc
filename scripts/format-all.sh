#!/usr/bin/env bash
# Formats the whole tree once (Prettier, then ESLint's autofixes) and checks that lint is clean.
# Run it after every branch is merged; then make `npm run lint` also run `prettier --check .`.
set -euo pipefail
cd "$(dirname "$0")/.."
npx prettier --write .
npx eslint --fix .
npx eslint .
npx prettier --check .
