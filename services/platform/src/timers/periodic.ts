/**
 * Runs `pass` at once, then `delayMs()` after each pass ends: never two
 * passes at once, so a slow pass delays the next instead of piling up. A pass
 * that throws is handed to `onError` and the next one runs as usual.
 * `stop` runs no further pass and resolves when the running one has ended.
 */
export function runPeriodically(
  pass: () => Promise<unknown>,
  delayMs: () => number,
  onError: (err: unknown) => void,
): { stop(): Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const run = () => {
    running = pass()
      .then(
        () => undefined,
        (err) => onError(err),
      )
      .finally(() => {
        if (!stopped) timer = setTimeout(run, delayMs());
      });
  };
  run();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
