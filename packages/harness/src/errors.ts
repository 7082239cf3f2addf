/** An infrastructure failure (missing tool, package, QEMU that hung or panicked): exit 2. */
export class HarnessError extends Error {
  constructor(
    message: string,
    readonly consoleLog?: string,
  ) {
    super(message);
    this.name = 'HarnessError';
  }
}
