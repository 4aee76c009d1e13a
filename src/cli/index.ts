#!/usr/bin/env node
/** The `clerk-sync` bin. */
import { main } from './main.js';

// Whatever this process writes (the embedded database, the dev secret, the control socket) is its
// owner's alone, whatever umask the shell had.
process.umask(0o077);

process.exitCode = await main(process.argv.slice(2), process.env);
