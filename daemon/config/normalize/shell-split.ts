// Splits a command string into words like Compose (go-shellwords): quotes and backslashes, no expansion.

export function shellSplit(input: string): { words: string[] } | { error: string } {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < input.length; i++) {
    const ch = input[i] ?? '';
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else cur += ch;
    } else if (quote === '"') {
      if (ch === '\\' && i + 1 < input.length && '"\\$`\n'.includes(input[i + 1] ?? '')) cur += input[++i];
      else if (ch === '"') quote = undefined;
      else cur += ch;
    } else if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else if (ch === '\\') {
      if (i + 1 < input.length) cur += input[++i];
      inWord = true;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quote !== undefined) return { error: `unterminated ${quote === '"' ? 'double' : 'single'} quote` };
  if (inWord) words.push(cur);
  return { words };
}
