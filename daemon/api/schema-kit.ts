// Building blocks shared by the control API's zod schemas: prototype-safe records, the numeric ranges the config
// loader accepts, and `Same`, which pins each schema's output to its TypeScript contract type at compile time.

import { z } from 'zod';

/** Keys no record may carry: assigning them could reach an object's prototype (the config loader refuses them too). */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const key = z.string().refine((k) => !FORBIDDEN_KEYS.has(k), { message: 'key not allowed' });
/** A record whose keys cannot pollute a prototype. */
export const safeRecord = <V extends z.ZodType>(value: V) => z.record(key, value);

export const strings = z.array(z.string());
export const stringMap = safeRecord(z.string());
// Counts and ports are whole numbers in the ranges the config loader accepts; durations are never negative.
export const int = (min: number, max: number) => z.number().int().min(min).max(max);
export const port = int(0, 65_535);
export const ms = z.number().min(0);
export const count = int(0, 1_000_000);
export const posInt = z.number().int();

/** True only when A and B are the same type (not merely assignable either way, which misses optional keys). */
export type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
export type Out<S extends z.ZodType> = z.output<S>;
