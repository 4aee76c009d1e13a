#!/usr/bin/env bash
# The package as a stranger gets it: `npm pack`, install the tarball into a fresh project, import
# every subpath with `import` and with `require`, typecheck a TypeScript consumer under
# moduleResolution bundler and nodenext, and run the installed bin (serve on the embedded
# database, send a signed event to it, status). Prints PASS or exits non-zero.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d /tmp/clerk-sync-consumer-XXXXXX)"
serve_pid=""
cleanup() {
  if [ -n "$serve_pid" ]; then kill "$serve_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

cd "$repo"
tarball="$(npm pack --silent --pack-destination "$work" | tail -1)"
echo "packed $tarball ($(du -k "$work/$tarball" | cut -f1) KB)"

mkdir -p "$work/app"
cd "$work/app"
cat > package.json <<'EOF'
{ "name": "clerk-sync-consumer", "private": true, "type": "module" }
EOF
typescript_version="$(node -p "require('$repo/package.json').devDependencies.typescript")"
types_version="$(node -p "require('$repo/package.json').devDependencies['@types/node']")"
npm install --no-audit --no-fund --silent "$work/$tarball" "typescript@$typescript_version" "@types/node@$types_version"
echo "installed: $(du -sk node_modules | cut -f1) KB in node_modules"

subpaths="clerk-sync clerk-sync/next clerk-sync/express clerk-sync/node clerk-sync/testing clerk-sync/rls clerk-sync/schema"
for s in $subpaths; do
  node --input-type=module -e "const m = await import('$s'); if (Object.keys(m).length === 0) throw new Error('$s exports nothing');"
  node --input-type=commonjs -e "const m = require('$s'); if (Object.keys(m).length === 0) throw new Error('$s exports nothing');"
done
echo "imported every subpath with import and require"

cat > consumer.ts <<'EOF'
import { createClerkSync, type ClerkSyncOptions } from 'clerk-sync';
import { createNextRoute } from 'clerk-sync/next';
import { clerkSyncExpress } from 'clerk-sync/express';
import { createNodeWebhookListener } from 'clerk-sync/node';
import { signEvent } from 'clerk-sync/testing';
import { withClerkUser, organizationPolicySql } from 'clerk-sync/rls';
import * as schema from 'clerk-sync/schema';

const options: ClerkSyncOptions = { databaseUrl: 'postgres://localhost/app' };
export const route = createNextRoute(options);
export const pieces = [createClerkSync, clerkSyncExpress, createNodeWebhookListener, signEvent, withClerkUser, organizationPolicySql, schema];
EOF
for resolution in bundler nodenext; do
  module=$([ "$resolution" = bundler ] && echo esnext || echo nodenext)
  cat > "tsconfig.$resolution.json" <<EOF
{ "compilerOptions": { "strict": true, "noEmit": true, "skipLibCheck": true, "target": "es2022", "module": "$module", "moduleResolution": "$resolution", "types": ["node"] }, "files": ["consumer.ts"] }
EOF
  npx tsc -p "tsconfig.$resolution.json"
done
echo "typechecked a consumer under moduleResolution bundler and nodenext"

port="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
export CLERK_SYNC_DATA_DIR="$work/data"
node_modules/.bin/clerk-sync serve --port "$port" --host 127.0.0.1 > "$work/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 1 100); do
  if curl -fs "http://127.0.0.1:$port/healthz" > /dev/null 2>&1; then break; fi
  sleep 0.2
done
curl -fs "http://127.0.0.1:$port/readyz" > /dev/null
node_modules/.bin/clerk-sync send user.created --url "http://127.0.0.1:$port/webhooks/clerk"
kill "$serve_pid"
wait "$serve_pid" 2>/dev/null || true
serve_pid=""
status="$(node_modules/.bin/clerk-sync status)"
echo "$status"
echo "$status" | grep -Eq 'applied +1'
echo "ran the installed bin: serve on the embedded database, send, status"
echo "PASS consumer test"
