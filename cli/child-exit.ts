// The exit code of a process cmesh ran for the user (`exec`, `run`): runCli returns it as cmesh's own, unrendered.

export class ChildExit {
  readonly exitCode: number;

  constructor(exitCode: number) {
    this.exitCode = exitCode;
  }
}
