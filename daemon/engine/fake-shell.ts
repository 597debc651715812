// A very small `sh -c` for the fake engine: enough of echo/exit/sleep/true/false for the scripts tests give containers,
// execs and Dockerfile RUN steps, so the same script means the same thing to the fake and to a real busybox.

export interface ShellOutput {
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface ShellRun {
  output: ShellOutput[];
  /** undefined when the script ends in a `sleep`: the process is still running. */
  exitCode: number | undefined;
  /** With exitCode undefined: how long that `sleep` lasts (seconds), for callers that model its end. */
  sleepSec?: number;
}


/** What an exec may set (ExecOptions): `$NAME` expands from env, `pwd` and `whoami` print the others. */
export interface ShellContext {
  env?: Record<string, string>;
  workingDir?: string;
  user?: string;
}

/** Runs `['sh', '-c', script]`, or a bare command such as `['sleep', '300']`. */
export function runShell(command: readonly string[] | undefined, context: ShellContext = {}): ShellRun {
  if (!command || command.length === 0) return { output: [], exitCode: 0 };
  const [bin, flag, script] = command;
  const isShell = (bin === 'sh' || bin === '/bin/sh') && flag === '-c' && script !== undefined;
  return runScript(isShell ? script : command.join(' '), context);
}

function runScript(script: string, context: ShellContext): ShellRun {
  const output: ShellOutput[] = [];
  let status = 0;
  // `a && b` skips b after a failure; `a; b` goes on. Nothing nests or quotes a separator in the scripts tests use.
  let separator = ';';
  for (const part of script.split(/(;|&&)/)) {
    if (part === ';' || part === '&&') {
      separator = part;
      continue;
    }
    const expanded = part.replace(/\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, name: string) => context.env?.[name] ?? '');
    const words = expanded.trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) continue;
    if (separator === '&&' && status !== 0) continue;
    const [cmd, ...args] = words;
    if (cmd === 'exit') return { output, exitCode: Number(args[0] ?? status) };
    if (cmd === 'sleep') return { output, exitCode: undefined, sleepSec: Number(args[0] ?? 0) };
    if (cmd === 'true') status = 0;
    else if (cmd === 'pwd') {
      output.push({ stream: 'stdout', text: context.workingDir ?? '/' });
      status = 0;
    } else if (cmd === 'whoami') {
      output.push({ stream: 'stdout', text: (context.user ?? 'root').split(':')[0]! });
      status = 0;
    }
    else if (cmd === 'false') status = 1;
    else if (cmd === 'echo') {
      const toStderr = args.at(-1) === '>&2';
      const text = (toStderr ? args.slice(0, -1) : args).join(' ').replace(/["']/g, ''); // quotes only group words here
      output.push({ stream: toStderr ? 'stderr' : 'stdout', text });
      status = 0;
    } else {
      output.push({ stream: 'stderr', text: `sh: ${cmd}: not found` });
      status = 127;
    }
  }
  return { output, exitCode: status };
}
