import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { JsonObjectSplitter } from './json-stream.ts';

describe('JsonObjectSplitter', () => {
  it('handles several objects per chunk, no newlines, braces and quotes inside strings', () => {
    const s = new JsonObjectSplitter();
    assert.deepEqual(s.push('{"a":1}{"b":"}{\\"x"}\n{"c":{"d":[1,{"e":2}]}}'), [{ a: 1 }, { b: '}{"x' }, { c: { d: [1, { e: 2 }] } }]);
    assert.deepEqual(s.end(), []);
  });

  it('skips garbage and invalid objects instead of dying', () => {
    const s = new JsonObjectSplitter();
    assert.deepEqual(s.push('garbage {"ok":true} {not json} {"ok":2}'), [{ ok: true }, { ok: 2 }]);
    assert.equal(s.invalid, 1);
    s.push('{"unterminated":');
    assert.deepEqual(s.end(), []);
    assert.equal(s.invalid, 2);
  });

  it('decodes a multi-byte character split across chunks', () => {
    const bytes = Buffer.from('{"t":"héllo → 世界"}');
    const s = new JsonObjectSplitter();
    const out = [];
    for (let i = 0; i < bytes.length; i++) out.push(...s.push(bytes.subarray(i, i + 1)));
    assert.deepEqual(out, [{ t: 'héllo → 世界' }]);
  });

  it('yields the same objects for any chunking (property)', () => {
    const obj = fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(fc.string(), fc.integer(), fc.constant('{}"\\')), { maxKeys: 4 });
    fc.assert(
      fc.property(fc.array(obj, { maxLength: 6 }), fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1 }), (objs, sizes) => {
        const bytes = Buffer.from(objs.map((o) => JSON.stringify(o)).join('\n'));
        const s = new JsonObjectSplitter();
        const out: unknown[] = [];
        for (let i = 0, k = 0; i < bytes.length; k++) {
          const n = sizes[k % sizes.length]!;
          out.push(...s.push(bytes.subarray(i, i + n)));
          i += n;
        }
        out.push(...s.end());
        assert.deepEqual(out, objs.map((o) => JSON.parse(JSON.stringify(o))));
      }),
    );
  });
});
