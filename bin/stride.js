#!/usr/bin/env node
// The package's `stride` command: runs the compiled CLI (npm run build makes dist/).
import('../dist/src/cli/main.js');
