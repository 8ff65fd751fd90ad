/** The import's progress bar: on a terminal only (a log file or a pipe gets the summary alone), measured in bytes. */
import cliProgress from 'cli-progress';

export interface Progress {
  /** `bytes` more of the input are done; `resources` written so far; `file` being read. */
  advance(bytes: number, resources: number, file: string): void;
  stop(): void;
}

const NONE: Progress = { advance: () => undefined, stop: () => undefined };

export function createProgress(totalBytes: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return NONE;
  const started = Date.now();
  const bar = new cliProgress.SingleBar(
    {
      format: 'importing [{bar}] {percentage}% | {mb} of {totalMb} MB | {resources} resources, {rate}/s | {file}',
      stream,
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const mb = (bytes: number): string => (bytes / 1048576).toFixed(1);
  let done = 0;
  bar.start(Math.max(totalBytes, 1), 0, { mb: mb(0), totalMb: mb(totalBytes), resources: 0, rate: 0, file: '' });
  return {
    advance(bytes, resources, file) {
      done += bytes;
      const seconds = (Date.now() - started) / 1000;
      bar.update(done, { mb: mb(done), resources, rate: seconds > 0 ? Math.round(resources / seconds) : 0, file: file.length > 40 ? `...${file.slice(-37)}` : file });
    },
    stop: () => bar.stop(),
  };
}
