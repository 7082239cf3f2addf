/** An error in device-tree input, with where it was found. Never carries a stack to the user. */
export class DtError extends Error {
  constructor(
    message: string,
    /** File name, and for DTB input the byte offset; for DTS input line and column. */
    readonly where: { file: string; offset?: number; line?: number; column?: number },
  ) {
    super(message);
    this.name = 'DtError';
  }
  override toString(): string {
    const w = this.where;
    const pos =
      w.line !== undefined ? `:${w.line}:${w.column ?? 1}` : w.offset !== undefined ? ` (byte ${w.offset})` : '';
    return `${w.file}${pos}: ${this.message}`;
  }
}
