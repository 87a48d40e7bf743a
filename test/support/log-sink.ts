/** A pino destination that keeps every log line, parsed, for assertions. */
export class LogSink {
  readonly lines: Record<string, unknown>[] = [];
  readonly raw: string[] = [];

  write(line: string): boolean {
    this.raw.push(line);
    try {
      this.lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      this.lines.push({ unparsed: line });
    }
    return true;
  }

  /** Lines whose `msg` equals `message`. */
  messages(message: string): Record<string, unknown>[] {
    return this.lines.filter((line) => line['msg'] === message);
  }

  text(): string {
    return this.raw.join('');
  }
}
