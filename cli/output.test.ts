import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createColors, formatTable, printJson, stripAnsi, shouldUseColor } from './output.ts';

const tty = { write: () => true, isTTY: true };
const pipe = { write: () => true, isTTY: false };

describe('shouldUseColor', () => {
  it('colours a TTY and not a pipe', () => {
    assert.equal(shouldUseColor(tty, { env: {} }), true);
    assert.equal(shouldUseColor(pipe, { env: {} }), false);
  });

  it('honours NO_COLOR, --no-color, CI=true and TERM=dumb', () => {
    assert.equal(shouldUseColor(tty, { env: { NO_COLOR: '1' } }), false);
    assert.equal(shouldUseColor(tty, { env: { NO_COLOR: '' } }), true, 'an empty NO_COLOR is unset (no-color.org)');
    assert.equal(shouldUseColor(tty, { env: {}, color: false }), false);
    assert.equal(shouldUseColor(tty, { env: { CI: 'true' } }), false);
    assert.equal(shouldUseColor(tty, { env: { TERM: 'dumb' } }), false);
  });

  it('FORCE_COLOR beats TTY and CI detection but not NO_COLOR or --no-color', () => {
    assert.equal(shouldUseColor(pipe, { env: { FORCE_COLOR: '1' } }), true);
    assert.equal(shouldUseColor(pipe, { env: { FORCE_COLOR: '1', CI: 'true' } }), true);
    assert.equal(shouldUseColor(tty, { env: { FORCE_COLOR: '0' } }), false);
    assert.equal(shouldUseColor(pipe, { env: { FORCE_COLOR: '1', NO_COLOR: '1' } }), false);
    assert.equal(shouldUseColor(pipe, { env: { FORCE_COLOR: '1' }, color: false }), false);
  });
});

describe('colours', () => {
  it('are identity when disabled and SGR codes when enabled', () => {
    assert.equal(createColors(false).red('x'), 'x');
    assert.equal(createColors(true).red('x'), '\u001b[31mx\u001b[39m');
    assert.equal(stripAnsi(createColors(true).bold('x')), 'x');
  });
});

describe('formatTable', () => {
  const rows = [
    { name: 'web', replicas: 3, status: 'healthy' },
    { name: 'database', replicas: 12, status: createColors(true).red('down') },
  ];

  it('aligns columns by visible width, right-aligns numbers, trims trailing spaces', () => {
    const text = formatTable(rows, [
      { header: 'Service', key: 'name' },
      { header: 'Replicas', key: 'replicas', align: 'right' },
      { header: 'Status', key: 'status' },
    ]);
    assert.equal(
      stripAnsi(text),
      ['SERVICE    REPLICAS   STATUS', 'web               3   healthy', 'database         12   down', ''].join('\n'),
    );
    for (const line of text.split('\n')) assert.equal(line, line.trimEnd());
  });

  it('prints just the header for no rows and uses value() over key', () => {
    assert.equal(formatTable([], [{ header: 'a' }, { header: 'bb' }]), 'A   BB\n');
    assert.equal(formatTable([{ n: 1 }], [{ header: 'x', value: (r) => `#${r.n}` }]), 'X\n#1\n');
  });
});

describe('printJson', () => {
  it('writes pretty JSON and a newline', () => {
    let out = '';
    printJson({ a: [1] }, { write: (s: string) => (out += s) });
    assert.equal(out, '{\n  "a": [\n    1\n  ]\n}\n');
  });
});
