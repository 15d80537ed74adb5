#!/usr/bin/env node
// The p4lb command. Sources are TypeScript, loaded through tsx so that no build step can go stale.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
