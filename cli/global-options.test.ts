import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { addGlobalOptions, GLOBAL_OPTIONS_WITH_VALUE } from './global-options.ts';

test('GLOBAL_OPTIONS_WITH_VALUE names every spelling of every global option that takes a value, and nothing else', () => {
  const declared = addGlobalOptions(new Command()).options.filter((o) => o.required || o.optional).flatMap((o) => [o.short, o.long].filter((f): f is string => !!f));
  assert.deepEqual([...GLOBAL_OPTIONS_WITH_VALUE].sort(), declared.sort());
});
