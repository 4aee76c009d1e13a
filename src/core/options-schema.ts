/**
 * The few validators the options need, spelled like zod's (`z.object({...}).strict()`,
 * `z.number().int().positive().default(10)`) so that config.ts reads as a zod schema. They exist
 * because `createClerkSync` validates its options at construction, that is when a route module is
 * imported: zod takes about 100 ms to import cold (all its locales come with it), a third of
 * what the whole webhook route may cost (docs/decisions/0009-package.md). The payload schemas of
 * the projections, loaded with the first apply, keep using zod.
 */

export interface Issue {
  path: readonly (string | number)[];
  message: string;
}

type Check<T> = (value: T) => string | undefined;

/** A validator: `parse` returns the value to keep, or pushes issues (then the result is unused). */
export abstract class Schema<Out, In = Out> {
  declare readonly _output: Out;
  declare readonly _input: In;
  /** What the value should be, for an error message ("a string"). */
  abstract readonly expected: string;
  abstract parse(value: unknown, path: readonly (string | number)[], issues: Issue[]): Out;

  optional(): Schema<Out | undefined, In | undefined> {
    return new Optional(this);
  }

  /** Maps a valid value to what the resolved configuration keeps (`false` → `0`). */
  transform<Next>(map: (value: Out) => Next): Schema<Next, In> {
    return new Transformed(this, map);
  }

  /**
   * Absent (undefined): the default, parsed like a given value (zod's `prefault`): an object's
   * `.default({})` takes its fields' own defaults, and every parse builds a new object, so
   * instances never share one.
   */
  default(value: Exclude<In, undefined>): Schema<Exclude<Out, undefined>, In | undefined> {
    return new Defaulted(this, value);
  }
}

class Optional<Out, In> extends Schema<Out | undefined, In | undefined> {
  readonly expected: string;
  constructor(readonly inner: Schema<Out, In>) {
    super();
    this.expected = inner.expected;
  }
  parse(value: unknown, path: readonly (string | number)[], issues: Issue[]): Out | undefined {
    return value === undefined ? undefined : this.inner.parse(value, path, issues);
  }
}

class Transformed<Out, In, Next> extends Schema<Next, In> {
  readonly expected: string;
  constructor(
    readonly inner: Schema<Out, In>,
    readonly map: (value: Out) => Next,
  ) {
    super();
    this.expected = inner.expected;
  }
  parse(value: unknown, path: readonly (string | number)[], issues: Issue[]): Next {
    const before = issues.length;
    const parsed = this.inner.parse(value, path, issues);
    return issues.length > before ? (parsed as unknown as Next) : this.map(parsed);
  }
}

class Defaulted<Out, In> extends Schema<Exclude<Out, undefined>, In | undefined> {
  readonly expected: string;
  constructor(
    readonly inner: Schema<Out, In>,
    readonly fallback: Exclude<In, undefined>,
  ) {
    super();
    this.expected = inner.expected;
  }
  parse(value: unknown, path: readonly (string | number)[], issues: Issue[]): Exclude<Out, undefined> {
    return this.inner.parse(value === undefined ? this.fallback : value, path, issues) as Exclude<Out, undefined>;
  }
}

/** A value of one JavaScript type, with checks run in the order they were added. */
class Primitive<T> extends Schema<T> {
  constructor(
    readonly expected: string,
    readonly accepts: (value: unknown) => value is T,
    readonly checks: readonly Check<T>[] = [],
  ) {
    super();
  }
  protected with(check: Check<T>): this {
    const Kind = this.constructor as new (expected: string, accepts: (value: unknown) => value is T, checks: readonly Check<T>[]) => this;
    return new Kind(this.expected, this.accepts, [...this.checks, check]);
  }
  parse(value: unknown, path: readonly (string | number)[], issues: Issue[]): T {
    if (!this.accepts(value)) {
      issues.push({ path, message: `expected ${this.expected}, got ${describe(value)}` });
      return value as T;
    }
    for (const check of this.checks) {
      const message = check(value);
      if (message !== undefined) {
        issues.push({ path, message });
        break;
      }
    }
    return value;
  }
}

class StringSchema extends Primitive<string> {
  min(length: number, message?: string): this {
    return this.with((v) => (v.length >= length ? undefined : (message ?? (length === 1 ? 'must not be empty' : `must be at least ${length} characters long`))));
  }
  max(length: number, message?: string): this {
    return this.with((v) => (v.length <= length ? undefined : (message ?? `must be at most ${length} characters long`)));
  }
  regex(pattern: RegExp, message?: string): this {
    return this.with((v) => (pattern.test(v) ? undefined : (message ?? `must match ${String(pattern)}`)));
  }
  url(message?: string): this {
    return this.with((v) => (URL.canParse(v) ? undefined : (message ?? 'must be a URL (e.g. https://example.com)')));
  }
}

class NumberSchema extends Primitive<number> {
  int(message?: string): this {
    return this.with((v) => (Number.isSafeInteger(v) ? undefined : (message ?? `must be a whole number, got ${v}`)));
  }
  positive(message?: string): this {
    return this.with((v) => (v > 0 ? undefined : (message ?? `must be greater than 0, got ${v}`)));
  }
  nonnegative(message?: string): this {
    return this.with((v) => (v >= 0 ? undefined : (message ?? `must be 0 or more, got ${v}`)));
  }
  min(least: number, message?: string): this {
    return this.with((v) => (v >= least ? undefined : (message ?? `must be at least ${least}, got ${v}`)));
  }
  max(most: number, message?: string): this {
    return this.with((v) => (v <= most ? undefined : (message ?? `must be at most ${most}, got ${v}`)));
  }
}

class Literal<T extends string | number | boolean> extends Schema<T> {
  readonly expected: string;
  constructor(readonly value: T) {
    super();
    this.expected = JSON.stringify(value);
  }
  parse(value: unknown, path: readonly (string | number)[], issues: Issue[]): T {
    if (value !== this.value) issues.push({ path, message: `expected ${this.expected}, got ${describe(value)}` });
    return value as T;
  }
}

class Enum<T extends string> extends Schema<T> {
  readonly expected: string;
  constructor(readonly values: readonly T[]) {
    super();
    this.expected = values.map((v) => JSON.stringify(v)).join(' or ');
  }
  parse(value: unknown, path: readonly (string | number)[], issues: Issue[]): T {
    if (!(this.values as readonly unknown[]).includes(value)) issues.push({ path, message: `expected ${this.expected}, got ${describe(value)}` });
    return value as T;
  }
}

class Custom<T> extends Schema<T> {
  readonly expected = 'a value of the documented type';
  constructor(readonly accepts: (value: unknown) => boolean) {
    super();
  }
  parse(value: unknown, path: readonly (string | number)[], issues: Issue[]): T {
    if (!this.accepts(value)) issues.push({ path, message: `is not ${this.expected}, got ${describe(value)}` });
    return value as T;
  }
}

class ArraySchema<Out, In> extends Schema<Out[], In[]> {
  readonly expected: string;
  constructor(readonly item: Schema<Out, In>) {
    super();
    this.expected = `an array of ${item.expected.replace(/^an? /, '')}s`;
  }
  parse(value: unknown, path: readonly (string | number)[], issues: Issue[]): Out[] {
    if (!Array.isArray(value)) {
      issues.push({ path, message: `expected ${this.expected}, got ${describe(value)}` });
      return [];
    }
    return value.map((v: unknown, i) => this.item.parse(v, [...path, i], issues));
  }
}

type AnySchema = Schema<unknown, unknown>;
type OutputOf<S> = S extends Schema<infer Out, unknown> ? Out : never;
type InputOf<S> = S extends Schema<unknown, infer In> ? In : never;

class Union<Options extends readonly AnySchema[]> extends Schema<OutputOf<Options[number]>, InputOf<Options[number]>> {
  readonly expected: string;
  constructor(readonly options: Options) {
    super();
    this.expected = options.map((o) => o.expected).join(' or ');
  }
  parse(value: unknown, path: readonly (string | number)[], issues: Issue[]): OutputOf<Options[number]> {
    // The first option that takes the value wins; when none does, the errors of an option whose
    // type matched (a string too short) say more than "expected a string or false".
    let closest: Issue[] | undefined;
    for (const option of this.options) {
      const own: Issue[] = [];
      const parsed = option.parse(value, path, own);
      if (own.length === 0) return parsed as OutputOf<Options[number]>;
      if (!own.some((i) => i.message.startsWith('expected '))) closest ??= own;
    }
    issues.push(...(closest ?? [{ path, message: `expected ${this.expected}, got ${describe(value)}` }]));
    return value as OutputOf<Options[number]>;
  }
}

type Shape = Record<string, AnySchema>;
type Flatten<T> = { [K in keyof T]: T[K] } & {};
type UndefinedKeys<T> = { [K in keyof T]: undefined extends T[K] ? K : never }[keyof T];
/** Keys whose value may be undefined become optional, as in zod. */
type Objectify<T> = Flatten<{ [K in Exclude<keyof T, UndefinedKeys<T>>]: T[K] } & { [K in UndefinedKeys<T>]?: T[K] }>;

class ObjectSchema<S extends Shape> extends Schema<Objectify<{ [K in keyof S]: OutputOf<S[K]> }>, Objectify<{ [K in keyof S]: InputOf<S[K]> }>> {
  readonly expected = 'an object';
  constructor(
    readonly shape: S,
    readonly closed = false,
  ) {
    super();
  }
  /** Unknown keys are an error (a misspelt option must not be ignored). */
  strict(): ObjectSchema<S> {
    return new ObjectSchema(this.shape, true);
  }
  parse(value: unknown, path: readonly (string | number)[], issues: Issue[]): this['_output'] {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      issues.push({ path, message: `expected ${this.expected}, got ${describe(value)}` });
      return {} as this['_output'];
    }
    const input = value as Record<string, unknown>;
    if (this.closed) {
      const unknown = Object.keys(input).filter((k) => !Object.hasOwn(this.shape, k));
      if (unknown.length > 0) issues.push({ path, message: `unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')}` });
    }
    const output: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(this.shape)) {
      const parsed = schema.parse(input[key], [...path, key], issues);
      if (parsed !== undefined) output[key] = parsed;
    }
    return output as this['_output'];
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value === 'object' ? 'an object' : typeof value === 'string' ? 'a string' : typeof value;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';

export const z = {
  string: () => new StringSchema('a string', isString),
  number: () => new NumberSchema('a finite number', isNumber),
  boolean: () => new Primitive('true or false', isBoolean),
  literal: <const T extends string | number | boolean>(value: T) => new Literal(value),
  enum: <const T extends string>(values: readonly [T, ...T[]]) => new Enum<T>(values),
  custom: <T>(accepts: (value: unknown) => boolean) => new Custom<T>(accepts),
  array: <Out, In>(item: Schema<Out, In>) => new ArraySchema(item),
  union: <const Options extends readonly AnySchema[]>(options: Options) => new Union(options),
  object: <S extends Shape>(shape: S) => new ObjectSchema(shape),
};

export type Input<S extends AnySchema> = S['_input'];
export type Output<S extends AnySchema> = S['_output'];

/** Validates `value`; the issues are empty when it is valid. */
export function safeParse<S extends AnySchema>(schema: S, value: unknown): { data: Output<S>; issues: Issue[] } {
  const issues: Issue[] = [];
  const data = schema.parse(value, [], issues) as Output<S>;
  return { data, issues };
}
