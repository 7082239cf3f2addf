/** The live progress line of a matrix run: done / failed / running, and an ETA. */
export class Progress {
  private started = Date.now();
  private done = 0;
  private failed = 0;
  private differ = 0;
  private running = new Set<string>();
  private walls: number[] = [];

  constructor(
    private readonly total: number,
    private readonly skipped: number,
    private readonly jobs: number,
    private readonly tty = Boolean(process.stderr.isTTY),
  ) {}

  start(id: string): void {
    this.running.add(id);
    this.draw();
  }

  finish(id: string, status: 'agree' | 'differ' | 'error', wall: number): void {
    this.running.delete(id);
    this.done++;
    if (status === 'error') this.failed++;
    if (status === 'differ') this.differ++;
    this.walls.push(wall);
    if (!this.tty)
      process.stderr.write(
        `[${this.skipped + this.done}/${this.total}] ${id}: ${status} (${wall.toFixed(1)} s)${this.eta()}\n`,
      );
    this.draw();
  }

  private eta(): string {
    const left = this.total - this.skipped - this.done;
    if (!this.walls.length || left <= 0) return '';
    const avg = this.walls.reduce((a, b) => a + b, 0) / this.walls.length;
    const s = Math.round((avg * left) / this.jobs);
    return `, ETA ${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  }

  line(): string {
    const el = Math.round((Date.now() - this.started) / 1000);
    return `matrix: ${this.skipped + this.done}/${this.total} done (${this.skipped} from before), ${this.differ} differ, ${this.failed} failed, ${this.running.size} running, ${el}s${this.eta()}`;
  }

  private draw(): void {
    if (this.tty) process.stderr.write(`\r\x1b[2K${this.line()}`);
  }

  end(): void {
    if (this.tty) process.stderr.write('\n');
    else process.stderr.write(`${this.line()}\n`);
  }
}
