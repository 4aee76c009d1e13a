/** A bad option value, reported like `node:util` parseArgs's own errors: one line, exit 2 (cli/main.ts). */
export function invalidOption(message: string): Error {
  return Object.assign(new Error(message), { code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' });
}
