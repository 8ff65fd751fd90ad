#!/usr/bin/env -S node --max-semi-space-size=64
// The package's `stride` command: runs the compiled CLI (npm run build makes dist/), with the young generation `npm start`
// gives the server (package.json; README, Performance).
import('../dist/src/cli/main.js');
