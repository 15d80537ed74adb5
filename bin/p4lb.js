#!/usr/bin/env -S node --max-semi-space-size=64
// The p4lb command. Sources are TypeScript, loaded through tsx so that no build step can go stale.
// A 64 MiB semi-space: the controller and the switches allocate fast and briefly (a one-backend
// change builds and encodes ~13,000 entries); a larger young generation keeps that garbage out of
// the old generation and the change's time out of major collections (docs/benchmarks.md).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
