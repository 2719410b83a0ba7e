export interface Io {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

export interface Command {
  name: string;
  summary: string;
  help: string;
  run(args: string[], io: Io): Promise<number>;
}
