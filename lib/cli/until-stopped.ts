// The end of a server command (serve, serve-appregistry): they run until the process is told to
// stop, then close what they opened.

/** Resolves when the process is told to stop (Ctrl-C or SIGTERM): the end of a server command. */
export function untilStopped(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
